# A user's visit with loops and conditions, against the shop: each user
# logs in once, following the login's redirect to its account page; then
# runs exactly three passes (iterations), each reading two catalogue pages
# (for_each), one to three products (repeat, drawn per pass) and putting
# one in the cart only in passes that read two products or more (when).

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "users" {
  default = 2
}

workload "shop" {
  host    = var.host
  cookies = "user"

  user "visitor" {
    wait = constant("20ms")

    start {
      step "login page" {
        get = "/login"
      }
      step "login" {
        post      = "/login"
        redirects = 1
        form = {
          username            = "visitor${user.id}"
          password            = "secret"
          csrfmiddlewaretoken = cookie("csrftoken")
        }
        expect {
          status = 200 # the account page the login redirected to
          that   = response.json.user == "visitor${user.id}"
        }
      }
    }

    sequence "browse" {
      pass {
        products = random_int(1, 3)
      }
      step "page" {
        for_each = [1, 2]
        get      = "/products?page=${each.value}"
      }
      step "product" {
        get    = "/products/${random_int(1, 500)}"
        name   = "/products/:id"
        repeat = pass.products
      }
      step "cart" {
        post = "/cart"
        json = { product_id = 1, qty = pass.products }
        when = pass.products >= 2
      }
    }
  }
}

shape "visits" {
  iterations = 3

  stage {
    until = "1m"
    users = var.users
  }
}

sla "all" {
  error_rate = "0%"
}
