# The shop's login, the way a browser does it: the login page sets a
# csrftoken cookie and puts the same token in its form; the login answers
# 302 with a session cookie; the cart is then the session's own. Each
# user logs in once (start), and every pass after carries its session.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "duration" {
  default = "6s"
}

variable "users" {
  default = 5
}

variable "jar" {
  default = "user"
}

workload "shop" {
  host    = var.host
  cookies = var.jar

  user "member" {
    wait = constant("100ms")

    start {
      step "login page" {
        get = "/login"
        capture = {
          form_token = regex("name=\"csrfmiddlewaretoken\" value=\"([A-Za-z0-9]+)\"", response.body)[0]
        }
      }

      step "login" {
        post = "/login"
        form = {
          username            = "member${user.id}"
          password            = "secret"
          csrfmiddlewaretoken = captured.form_token
        }
        capture = { cookies_set = length(response.header_values["set-cookie"]) }
        expect {
          status = 302
        }
      }
    }

    sequence "buy" {
      step "add" {
        post = "/cart"
        json = { product_id = random_int(1, 500), qty = 1 }
      }

      step "account" {
        get = "/account"
        expect {
          status = 200
          json   = ["user", "session"]
        }
      }

      step "pay" {
        post = "/checkout"
        json = {}
        # A CSRF header read from the jar: the shop ignores it on the cart
        # routes, but a Django view would want it.
        headers = { "X-CSRFToken" = cookie("csrftoken") }
        expect {
          status = 200
          json   = ["order_id"]
        }
      }
    }
  }
}

shape "steady" {
  stage {
    until = var.duration
    users = var.users
  }
}

sla "all" {
  error_rate = "0%"
}
