# QuickPizza (grafana/quickpizza), its k6 example
# k6/foundations/17.login-action.js written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://localhost:3333" # BASE_URL
}

workload "quickpizza" {
  host      = var.host
  cookies   = "pass" # k6's jar: a new one each iteration
  redirects = 10     # k6 follows up to 10 redirects (maxRedirects)

  user "vu" {
    wait = constant("500ms") # the sleep(0.5) that ends each iteration

    sequence "login, pizza, rating" {
      # A k6 check only records: after a failed check the script goes on
      # with the next request, and so does this pass. Outside a plan's
      # scope (not counted as approximation): a failed expectation counts
      # as a failed request, where k6 counts it in its checks rate.
      on_failure = "continue"
      # APPROX: after a failed request whose answer a later one reads (the
      # CSRF cookie, the token, the pizza id), k6 either throws, which ends
      # the iteration (a missing cookie, pizza), or sends the next request
      # with `undefined` (a login answered with JSON but no token: the
      # pizza request goes out with "token undefined"), and after a failed
      # check on an answer that still carries the value it reads it as
      # usual. lab makes no capture from a failed request: the requests
      # that read it fail, unsent, and are counted as failed.
      step "csrf token" {
        post    = "/api/csrf-token"
        headers = { "Content-Type" = "application/json" } # no body, as http.post(url, null, ...)
        capture = { csrf = response.cookies["csrf_token"] }
        expect {
          status = 200
        }
      }
      step "login" {
        post    = "/api/users/token/login"
        json    = { username = "default", password = "12345678", csrf = captured.csrf }
        capture = { token = response.json.token }
        expect {
          status = 200
        }
      }
      step "pizza" {
        think   = constant("500ms") # sleep(0.5) after the login
        post    = "/api/pizza"
        headers = { Authorization = "token ${captured.token}" }
        json = {
          maxCaloriesPerSlice = 500
          mustBeVegetarian    = false
          excludedIngredients = ["pepperoni"]
          excludedTools       = ["knife"]
          maxNumberOfToppings = 6
          minNumberOfToppings = 2
        }
        capture = { pizza_id = response.json.pizza.id }
        expect {
          status = 200
        }
      }
      step "rating" {
        post    = "/api/ratings"
        headers = { Authorization = "token ${captured.token}" }
        json    = { pizza_id = captured.pizza_id, stars = 5 }
        expect {
          status = 201
        }
      }
    }
  }
}

shape "default" { # vus: 5, duration: 5s
  stage {
    until = "5s"
    users = 5
  }
}
