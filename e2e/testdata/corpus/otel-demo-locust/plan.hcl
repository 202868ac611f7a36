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

# APPROX: every request of the script carries OpenTelemetry trace context
# (a traceparent header for its span) from the requests instrumentation;
# the plan sends the baggage header only.
#
# APPROX: the browser user (PlaywrightUser, on when
# LOCUST_BROWSER_TRAFFIC_ENABLED is set) is left out: lab speaks HTTP, not
# a browser.
#
# The weights are the script's times 3, so that checkout_multi's random
# count of 2, 3 or 4 items can be three sequences of weight 1 each.

workload "otel-demo" {
  host    = var.host
  cookies = "user" # the Locust session keeps cookies for the user's life

  user "website" {
    weight = 9
    wait   = between("1s", "10s")

    start { # on_start: a session id in the baggage, then the index page
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
      headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
    }

    task "browse_product" {
      weight  = 30
      get     = "/api/products/${random_choice(var.products)}"
      name    = "/api/products/:id"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
    }

    task "get_recommendations" {
      weight  = 9
      get     = "/api/recommendations"
      query   = { productIds = random_choice(var.products) }
      headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
    }

    task "get_ads" {
      weight = 9
      # requests leaves out a None parameter, so one choice in seven has no query
      get     = "/api/data/${random_choice(["?contextKeys=binoculars", "?contextKeys=telescopes", "?contextKeys=accessories", "?contextKeys=assembly", "?contextKeys=travel", "?contextKeys=books", ""])}"
      name    = "/api/data/"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
    }

    task "view_cart" {
      weight  = 9
      get     = "/api/cart"
      headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
    }

    sequence "add_to_cart" {
      weight = 6
      # APPROX: Locust sends the cart request even when the product request
      # failed; a lab sequence ends the pass at the first failed step.
      step "product" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        # the product drawn for this pass, read back for the cart request
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
    }

    sequence "checkout" {
      weight = 3
      step "product" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
    }

    sequence "checkout_multi_2" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
    }

    sequence "checkout_multi_3" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 3" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 3" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
    }

    sequence "checkout_multi_4" {
      weight = 1
      step "product 1" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id, user = uuid() }
      }
      step "cart 1" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 2" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 2" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 3" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 3" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "product 4" {
        get     = "/api/products/${random_choice(var.products)}"
        name    = "/api/products/:id"
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
        capture = { product = response.json.id }
      }
      step "cart 4" {
        post    = "/api/cart"
        json    = { item = { productId = captured.product, quantity = random_choice([1, 2, 3, 4, 5, 10]) }, userId = captured.user }
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
      step "checkout" {
        post    = "/api/checkout"
        json    = merge(random_choice(var.people), { userId = captured.user })
        headers = { baggage = "session.id=${captured.session},synthetic_request=true" }
      }
    }

    # APPROX: flood_home (weight 5, times 3 = 15) asks the flagd service (a
    # second host) for loadGeneratorFloodHomepage and, when it is above 0,
    # loops that many GET / requests. A request count read from another
    # service at run time cannot be written; the task is left out. With
    # the flag at its default of 0 it sends nothing, but Locust still
    # spends 15 of 104 passes (and their waits) on it.
  }
}

shape "steady" {
  stage {
    until      = var.duration
    users      = var.users
    spawn_rate = 1
  }
}
