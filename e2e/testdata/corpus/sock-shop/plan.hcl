# Sock Shop (microservices-demo/load-test), its Locust file written as a
# lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "http://127.0.0.1:80"
}

variable "users" {
  default = 10
}

variable "duration" {
  default = "5m"
}

workload "sock-shop" {
  host    = var.host
  cookies = "user" # the Locust session keeps the login cookies for the user's life

  user "web" {
    # min_wait = max_wait = 0: no wait between passes

    sequence "load" {
      # APPROX: after the catalogue, Locust goes on after a failed request;
      # a lab sequence ends the pass at the first failed step.
      step "catalogue" {
        get     = "/catalogue"
        capture = { item_id = random_choice(response.json).id }
      }
      step "home" {
        get = "/"
      }
      step "login" {
        get = "/login"
        # base64 of "user:password", as the script computes it
        headers = { Authorization = "Basic dXNlcjpwYXNzd29yZA==" }
      }
      step "category" {
        get = "/category.html"
      }
      step "detail" {
        get   = "/detail.html"
        query = { id = captured.item_id }
      }
      step "empty cart" {
        delete = "/cart"
      }
      step "add to cart" {
        post = "/cart"
        json = { id = captured.item_id, quantity = 1 }
      }
      step "basket" {
        get = "/basket.html"
      }
      step "order" {
        post = "/orders"
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
