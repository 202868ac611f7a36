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
      # k6 reads an answer whatever its checks said (capture_failed): a
      # login answered 401 with a token goes on to the pizza. When the value
      # a later request reads is missing (the CSRF cookie, an answer that
      # is not JSON, the pizza's id), k6 throws and ends the iteration:
      # nothing is captured, and each later step is sent only when it can
      # read the capture it needs. A login's JSON without a token sends
      # "token undefined" (a null one "token null"), as k6's template does.
      step "csrf token" {
        post           = "/api/csrf-token"
        headers        = { "Content-Type" = "application/json" } # no body, as http.post(url, null, ...)
        capture        = { csrf = response.cookies["csrf_token"] }
        capture_failed = true
        expect {
          status = 200
        }
      }
      step "login" {
        when           = can(captured.csrf)
        post           = "/api/users/token/login"
        json           = { username = "default", password = "12345678", csrf = captured.csrf }
        capture        = { token = can(response.json) ? try(coalesce(response.json.token, "null"), "undefined") : response.json.token }
        capture_failed = true
        expect {
          status = 200
        }
      }
      step "pizza" {
        when    = can(captured.token)
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
        capture        = { pizza_id = response.json.pizza.id }
        capture_failed = true
        expect {
          status = 200
        }
      }
      step "rating" {
        when    = can(captured.pizza_id)
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
