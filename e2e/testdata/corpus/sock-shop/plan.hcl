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
      # When /catalogue fails, its .json() (or choice of an empty list or
      # of the front end's error object) raises and ends Locust's task:
      # nothing more is sent. A failed lab step captures nothing, so every
      # later step is sent only when it can read the item: none is sent.
      # (An answer of 400 or more whose body is a list of items would go on
      # in Locust and not here; Sock Shop's front end answers its errors
      # with an object.)
      step "catalogue" {
        get     = "/catalogue"
        capture = { item_id = random_choice(response.json).id }
      }
      step "home" {
        when = can(captured.item_id)
        get  = "/"
      }
      step "login" {
        when    = can(captured.item_id)
        get     = "/login"
        headers = { Authorization = local.basic }
      }
      step "category" {
        when = can(captured.item_id)
        get  = "/category.html"
      }
      step "detail" {
        when  = can(captured.item_id)
        get   = "/detail.html"
        query = { id = captured.item_id }
      }
      step "empty cart" {
        when   = can(captured.item_id)
        delete = "/cart"
      }
      step "add to cart" {
        when = can(captured.item_id)
        post = "/cart"
        json = { id = captured.item_id, quantity = 1 }
      }
      step "basket" {
        when = can(captured.item_id)
        get  = "/basket.html"
      }
      step "order" {
        when = can(captured.item_id)
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
