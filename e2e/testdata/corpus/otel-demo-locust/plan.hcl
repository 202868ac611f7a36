# OpenTelemetry Demo (open-telemetry/opentelemetry-demo), its Locust load
# generator (before it moved to k6) written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "users" {
  default = 10
}

variable "duration" {
  default = "5m"
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

# flagd's OFREP endpoint (FLAGD_HOST:FLAGD_OFREP_PORT), which flood_home
# asks for loadGeneratorFloodHomepage.
variable "flagd" {
  default = "http://flagd:8016"
}

# APPROX: the script's tracer exports its own spans (one per task, one per
# HTTP request), logs and metrics over OTLP to the collector, another
# host. The plan sends the same trace context on every request (a
# traceparent per request, in one trace per task) but no telemetry of its
# own, so the traces lack the load generator's spans.
#
# APPROX: the browser user (PlaywrightUser, on when
# LOCUST_BROWSER_TRAFFIC_ENABLED is set) is left out: lab speaks HTTP, not
# a browser.

workload "otel-demo" {
  host      = var.host
  cookies   = "user" # the Locust session keeps cookies for the user's life
  redirects = 20     # requests follows redirects (30 at most; 20 is lab's most)

  user "website" {
    weight = 9 # LOCUST_HTTP_USER_WEIGHT, against the (left out) browser user
    wait   = between("1s", "10s")

    # on_start: a session id (uuid4) in the baggage, then the index page;
    # when the index request fails, Locust goes on to the tasks all the same.
    start {
      on_failure = "continue"
      pass {
        session = uuid() # drawn once per user, read as captured.session
      }
      step "session start" {
        get     = "/"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
      }
    }

    task "index" {
      weight  = 1
      get     = "/"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
    }

    task "browse_product" {
      weight  = 10
      get     = "/api/products/${random_choice(var.products)}"
      name    = "/api/products/:id"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
    }

    task "get_recommendations" {
      weight  = 3
      get     = "/api/recommendations"
      query   = { productIds = random_choice(var.products) }
      headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
    }

    task "get_ads" {
      weight = 3
      # requests leaves out a None parameter, so one choice in seven has no query
      get     = "/api/data/${random_choice(["?contextKeys=binoculars", "?contextKeys=telescopes", "?contextKeys=accessories", "?contextKeys=assembly", "?contextKeys=travel", "?contextKeys=books", ""])}"
      name    = "/api/data/"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
    }

    task "view_cart" {
      weight  = 3
      get     = "/api/cart"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = traceparent() }
    }

    sequence "add_to_cart" {
      weight     = 2
      on_failure = "continue" # Locust goes on after a failed request
      pass {
        user    = uuid()
        product = random_choice(var.products)
        trace   = traceparent() # the task's span: each request is a child span of it
      }
      step "product" {
        get     = "/api/products/${pass.product}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = pass.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
    }

    sequence "checkout" {
      weight     = 1
      on_failure = "continue"
      pass {
        user    = uuid()
        product = random_choice(var.products)
        trace   = traceparent()
      }
      step "product" {
        get     = "/api/products/${pass.product}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = pass.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = pass.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
    }

    sequence "checkout_multi" {
      weight     = 1
      on_failure = "continue"
      pass {
        user      = uuid()
        items     = random_choice([2, 3, 4]) # item_count
        product_1 = random_choice(var.products)
        product_2 = random_choice(var.products)
        product_3 = random_choice(var.products)
        product_4 = random_choice(var.products)
        trace     = traceparent()
      }
      step "product 1" {
        get     = "/api/products/${pass.product_1}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = pass.product_1, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "product 2" {
        get     = "/api/products/${pass.product_2}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = pass.product_2, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "product 3" {
        when    = pass.items >= 3
        get     = "/api/products/${pass.product_3}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart 3" {
        when    = pass.items >= 3
        post    = "/api/cart"
        json    = { item = { productId = pass.product_3, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "product 4" {
        when    = pass.items >= 4
        get     = "/api/products/${pass.product_4}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "cart 4" {
        when    = pass.items >= 4
        post    = "/api/cart"
        json    = { item = { productId = pass.product_4, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = pass.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = pass.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
    }

    # flood_home asks flagd (another host: host on the step) for
    # loadGeneratorFloodHomepage each time it is picked and sends that many
    # GET /; a flag it cannot read is 0 (the provider's default), so the
    # pass sends nothing more. The flag request is in lab's statistics
    # under its own name; Locust does not see the provider's requests.
    sequence "flood_home" {
      weight     = 5
      on_failure = "continue"
      pass {
        trace = traceparent()
      }
      step "flag" {
        host    = var.flagd
        post    = "/ofrep/v1/evaluate/flags/loadGeneratorFloodHomepage"
        json    = { context = {} }
        capture = { flood = try(response.json.value, 0) }
      }
      step "flood" {
        when    = can(captured.flood) && try(captured.flood > 0, false)
        repeat  = try(captured.flood, 0)
        get     = "/"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true", traceparent = "00-${split("-", pass.trace)[1]}-${substr(replace(uuid(), "-", ""), 0, 16)}-01" }
      }
    }
  }
}

shape "steady" {
  stage {
    until      = var.duration
    users      = var.users
    spawn_rate = 1
  }
}
