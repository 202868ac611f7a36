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
# written here, as the plan may only read files in its own folder.
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

# APPROX: every request of the script carries the traceparent header of
# the span the xk6-otel tracer opened for it; the plan sends the baggage
# header only.
#
# APPROX: before every pass the script asks flagd (a second host,
# FLAGD_HOST:FLAGD_OFREP_PORT) for loadGeneratorTraffic and, when it is 0,
# sleeps and skips the pass. A request to another host and a pass that
# depends on its answer cannot be written; the plan acts as if the flag
# were on.
#
# APPROX: the browser scenario (K6_BROWSER_ENABLED, one chromium page) is
# left out: lab speaks HTTP, not a browser.
#
# The weights are the script's times 3, so that checkoutMulti's random
# count of 2, 3 or 4 items can be three sequences of weight 1 each.

workload "otel-demo" {
  host    = var.host
  cookies = "pass" # k6's jar: a new one each iteration

  user "vu" {
    wait = between("1s", "10s") # sleep(cryptoRandom() * 9 + 1) after each pass

    start { # onStart on the first iteration: a session id, then the index page
      # APPROX: this first request goes without the baggage header, as the
      # session id is drawn (captured) with its answer.
      step "session start" {
        get     = "/"
        capture = { session = uuid() }
      }
    }

    task "index" {
      weight  = 3
      get     = "/"
      headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
    }

    task "browseProduct" {
      weight  = 30
      get     = "/api/products/${random_choice(var.products)}"
      name    = "/api/products/:id"
      headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
    }

    task "getRecommendations" {
      weight  = 9
      get     = "/api/recommendations"
      query   = { productIds = random_choice(var.products) }
      headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
    }

    task "getAds" {
      weight = 9
      # a null category is sent as the text contextKeys=None, as the script writes it
      get     = "/api/data/${random_choice(["?contextKeys=binoculars", "?contextKeys=telescopes", "?contextKeys=accessories", "?contextKeys=assembly", "?contextKeys=travel", "?contextKeys=books", "?contextKeys=None"])}"
      name    = "/api/data/"
      headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
    }

    task "viewCart" {
      weight  = 9
      get     = "/api/cart"
      headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
    }

    sequence "addToCart" {
      weight = 6
      # APPROX: k6 sends the cart request even when the product request
      # failed; a lab sequence ends the pass at the first failed step.
      step "product" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        # the product drawn for this pass, read back for the cart request
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
    }

    sequence "checkout" {
      weight = 3
      step "product" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
    }

    sequence "checkoutMulti_2" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
    }

    sequence "checkoutMulti_3" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 3" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 3" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
    }

    sequence "checkoutMulti_4" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 3" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 3" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "product 4" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
        capture = { product = response.json.id }
      }
      step "cart 4" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "synthetic_request=true,session.id=${captured.session}" }
      }
    }

    # APPROX: floodHome (weight 5, times 3 = 15) asks flagd (a second host)
    # for loadGeneratorFloodHomepage and, when it is above 0, loops that
    # many GET / requests. A request count read from another service at
    # run time cannot be written; the task is left out, and with it the
    # flagd request it sends each time it is picked.
  }
}

shape "load" { # constant-vus
  stage {
    until = var.duration
    users = var.users
  }
}
