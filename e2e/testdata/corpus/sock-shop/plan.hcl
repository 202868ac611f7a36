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

locals {
  # base64.encodestring('user:password'), as the script computes it
  basic = "Basic ${base64encode("user:password")}"
}

workload "sock-shop" {
  host      = var.host
  cookies   = "user" # the Locust session keeps the login cookies for the user's life
  redirects = 20     # requests follows redirects (30 at most; 20 is lab's most)

  user "web" {
    # min_wait = max_wait = 0: no wait between passes

    sequence "load" {
      # Locust goes on after a failed request: only an exception ends the task.
      on_failure = "continue"
      # APPROX: when /catalogue fails, its .json() (or choice of an empty
      # list) raises and ends Locust's task: nothing more is sent. Here the
      # pass goes on: the steps that need the item (detail, add to cart)
      # fail unsent, the six others are sent. A lab sequence goes on after
      # every failed step or after none, not after some.
      step "catalogue" {
        get     = "/catalogue"
        capture = { item_id = random_choice(response.json).id }
      }
      step "home" {
        get = "/"
      }
      step "login" {
        get     = "/login"
        headers = { Authorization = local.basic }
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
