# Online Boutique (GoogleCloudPlatform/microservices-demo), its Locust
# load generator written as a lab plan. See SOURCE.txt for the origin.

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
  default = ["0PUK6V6EV0", "1YMWWN1N4O", "2ZYFJ3GM2N", "66VCHSJNUP", "6E92ZMYYFZ", "9SIQT8TOJO", "L9ECAV7KIM", "LS4PSXUNUM", "OLJCESPC7Z"]
}

workload "boutique" {
  host    = var.host
  cookies = "user" # FastHttpUser keeps the shop_session-id cookie for the user's life
  # FastHttpUser follows redirects (max_redirects, 5 by default): the 302s
  # of /setCurrency and /cart lead back to a page, fetched with a GET.
  redirects = 5
  # FastHttpUser's insecure = True: any certificate of an https:// host
  insecure_skip_verify = true

  user "website" {
    wait = between("1s", "10s")

    # UserBehavior.on_start: index; when it fails, Locust goes on to the
    # tasks all the same.
    start {
      on_failure = "continue"
      step "index" {
        get = "/"
      }
    }

    task "index" {
      weight = 1
      get    = "/"
    }

    task "setCurrency" {
      weight = 2
      post   = "/setCurrency"
      form   = { currency_code = random_choice(["EUR", "USD", "JPY", "CAD", "GBP", "TRY"]) }
    }

    task "browseProduct" {
      weight = 10
      get    = "/product/${random_choice(var.products)}"
      name   = "/product/:id"
    }

    task "viewCart" {
      weight = 3
      get    = "/cart"
    }

    sequence "addToCart" {
      weight     = 2
      on_failure = "continue" # Locust sends the cart request even when the product page failed
      pass {
        product = random_choice(var.products) # one product, viewed then added
      }
      step "product" {
        get  = "/product/${pass.product}"
        name = "/product/:id"
      }
      step "cart" {
        post = "/cart"
        form = { product_id = pass.product, quantity = random_int(1, 10) }
      }
    }

    sequence "checkout" {
      weight     = 1
      on_failure = "continue"
      pass {
        product = random_choice(var.products)
      }
      step "product" {
        get  = "/product/${pass.product}"
        name = "/product/:id"
      }
      step "cart" {
        post = "/cart"
        form = { product_id = pass.product, quantity = random_int(1, 10) }
      }
      step "checkout" {
        post = "/cart/checkout"
        # Faker's fake email, address and visa number: fake(kind).
        form = {
          email                        = fake("email")
          street_address               = fake("street_address")
          zip_code                     = fake("zip_code")
          city                         = fake("city")
          state                        = fake("state_abbr")
          country                      = fake("country")
          credit_card_number           = fake("credit_card")
          credit_card_expiration_month = random_int(1, 12)
          # current_year = datetime.now().year + 1
          credit_card_expiration_year = random_int(tonumber(formatdate("YYYY", timestamp())) + 1, tonumber(formatdate("YYYY", timestamp())) + 71)
          credit_card_cvv             = random_int(100, 999)
        }
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
