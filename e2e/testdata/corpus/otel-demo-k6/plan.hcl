# OpenTelemetry Demo (open-telemetry/opentelemetry-demo), its k6 load
# generator (the port of the Locust one) written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://frontend-proxy:8080" # K6_TARGET_URL
}

variable "users" {
  default = 10 # LOAD_GENERATOR_VUS
}

variable "duration" {
  default = "9999h" # K6_DURATION
}

variable "products" {
  default = ["0PUK6V6EV0", "1YMWWN1N4O", "2ZYFJ3GM2N", "66VCHSJNUP", "6E92ZMYYFZ", "9SIQT8TOJO", "L9ECAV7KIM", "LS4PSXUNUM", "OLJCESPC7Z", "HQTGWGPNH4"]
}

# APPROX: the script reads people.json (nine people); two of its rows are
# written here, as the corpus keeps no copy of the file (with one, write
# locals { people = jsondecode(file("people.json")) }).
variable "people" {
  default = [
    {
      email = "larry_sergei@example.com"
      address = {
        streetAddress = "1600 Amphitheatre Parkway", zipCode = "94043", city = "Mountain View", state = "CA", country = "United States"
      }
      userCurrency = "USD"
      creditCard = {
        creditCardNumber = "4432-8015-6152-0454", creditCardExpirationMonth = 1, creditCardExpirationYear = 2039, creditCardCvv = 672
      }
    },
    {
      email = "bill@example.com"
      address = {
        streetAddress = "One Microsoft Way", zipCode = "98052", city = "Redmond", state = "WA", country = "United States"
      }
      userCurrency = "USD"
      creditCard = {
        creditCardNumber = "4532-4211-7434-1278", creditCardExpirationMonth = 2, creditCardExpirationYear = 2039, creditCardCvv = 114
      }
    },
  ]
}

# flagd's OFREP endpoint (FLAGD_HOST:FLAGD_OFREP_PORT): every iteration
# asks it for loadGeneratorTraffic, floodHome for loadGeneratorFloodHomepage.
variable "flagd" {
  default = "http://flagd:8016"
}

# APPROX: the xk6-otel tracer exports its own spans (one per task, one per
# flag evaluation) over OTLP to the collector, another host. The plan
# sends the same trace context on every request (the traceparent of the
# span the script opens for it) but no span of its own, so the traces
# lack the load generator's spans.
#
# APPROX: the first iteration asks flagd for loadGeneratorTraffic before
# onStart, and runs onStart only when traffic is on; lab's start block
# runs first, so its index request is sent even while the flag is off, and
# before the first traffic check. Every later request asks as the script
# does: each pass starts with the traffic flag (host on the step) and
# sends nothing when it is 0 or cannot be read; the flag requests are in
# lab's statistics under their own names (the script tags them flagd).
#
# APPROX: the browser scenario (K6_BROWSER_ENABLED, one chromium page) is
# left out: lab speaks HTTP, not a browser.

workload "otel-demo" {
  host      = var.host
  cookies   = "pass" # k6's jar: a new one each iteration
  redirects = 10     # k6 follows up to 10 redirects (maxRedirects)

  user "vu" {
    wait = between("1s", "10s") # sleep(cryptoRandom() * 9 + 1) after each pass

    # onStart, on the first iteration: a session id (crypto.randomUUID()),
    # then the index page; a failed index request does not stop the
    # iteration, which goes on to its task.
    start {
      on_failure = "continue"
      pass {
        session = uuid() # drawn once per VU, read as captured.session
      }
      step "session start" {
        get     = "/"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "index" {
      weight = 1
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "index" {
        when    = try(captured.traffic > 0, false)
        get     = "/"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "browseProduct" {
      weight = 10
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "browseProduct" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "getRecommendations" {
      weight = 3
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "getRecommendations" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/recommendations"
        query   = { productIds = random_choice(var.products) }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "getAds" {
      weight = 3
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "getAds" {
        when = try(captured.traffic > 0, false)
        # a null category is sent as the text contextKeys=None, as the script writes it
        get     = "/api/data/${random_choice(["?contextKeys=binoculars", "?contextKeys=telescopes", "?contextKeys=accessories", "?contextKeys=assembly", "?contextKeys=travel", "?contextKeys=books", "?contextKeys=None"])}"
        name    = "/api/data/"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "viewCart" {
      weight = 3
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "viewCart" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/cart"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
      }
    }

    sequence "addToCart" {
      weight     = 2
      on_failure = "continue" # k6 goes on after a failed request
      pass {
        user    = uuid()
        product = random_choice(var.products)
        trace   = traceparent() # the task's span, whose traceparent both requests carry
      }
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "product" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/products/${pass.product}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
      step "cart" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/cart"
        json    = { item = { productId = pass.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
    }

    sequence "checkout" {
      weight     = 1
      on_failure = "continue"
      pass {
        user           = uuid()
        product        = random_choice(var.products)
        trace          = traceparent()
        trace_checkout = traceparent() # checkout's own span; addToCart opens another
      }
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "product" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/products/${pass.product}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
      step "cart" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/cart"
        json    = { item = { productId = pass.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
      step "checkout" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = pass.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_checkout }
      }
    }

    sequence "checkoutMulti" {
      weight     = 1
      on_failure = "continue"
      pass {
        user      = uuid()
        items     = random_choice([2, 3, 4]) # itemCount
        product_1 = random_choice(var.products)
        product_2 = random_choice(var.products)
        product_3 = random_choice(var.products)
        product_4 = random_choice(var.products)
        trace     = traceparent() # checkoutMulti's span
        trace_1   = traceparent() # each addToCart opens a span of its own
        trace_2   = traceparent()
        trace_3   = traceparent()
        trace_4   = traceparent()
      }
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "product 1" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/products/${pass.product_1}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_1 }
      }
      step "cart 1" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/cart"
        json    = { item = { productId = pass.product_1, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_1 }
      }
      step "product 2" {
        when    = try(captured.traffic > 0, false)
        get     = "/api/products/${pass.product_2}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_2 }
      }
      step "cart 2" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/cart"
        json    = { item = { productId = pass.product_2, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_2 }
      }
      step "product 3" {
        when    = try(captured.traffic > 0, false) && pass.items >= 3
        get     = "/api/products/${pass.product_3}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_3 }
      }
      step "cart 3" {
        when    = try(captured.traffic > 0, false) && pass.items >= 3
        post    = "/api/cart"
        json    = { item = { productId = pass.product_3, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_3 }
      }
      step "product 4" {
        when    = try(captured.traffic > 0, false) && pass.items >= 4
        get     = "/api/products/${pass.product_4}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_4 }
      }
      step "cart 4" {
        when    = try(captured.traffic > 0, false) && pass.items >= 4
        post    = "/api/cart"
        json    = { item = { productId = pass.product_4, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace_4 }
      }
      step "checkout" {
        when    = try(captured.traffic > 0, false)
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = pass.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
    }

    # floodHome asks flagd for loadGeneratorFloodHomepage and sends that
    # many GET / (none when it is 0 or cannot be read).
    sequence "floodHome" {
      weight     = 5
      on_failure = "continue"
      pass {
        trace = traceparent()
      }
      step "traffic" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorTraffic"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { traffic = try(response.json.value, 0) }
      }
      step "flood flag" {
        when    = try(captured.traffic > 0, false)
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorFloodHomepage"
        body    = "{}"
        headers = { "Content-Type" = "application/json", baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = traceparent() }
        capture = { flood = try(response.json.value, 0) }
      }
      step "flood" {
        when    = try(captured.traffic > 0, false) && try(captured.flood > 0, false)
        repeat  = try(captured.flood, 0)
        get     = "/"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}", traceparent = pass.trace }
      }
    }
  }
}

shape "load" { # constant-vus
  stage {
    until = var.duration
    users = var.users
  }
}
