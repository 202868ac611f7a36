# QuickPizza (grafana/quickpizza), its k6 example
# k6/foundations/17.login-action.js written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://localhost:3333" # BASE_URL
}

workload "quickpizza" {
  host    = var.host
  cookies = "pass" # k6's jar: a new one each iteration

  user "vu" {
    wait = constant("500ms") # the sleep(0.5) that ends each iteration

    sequence "login, pizza, rating" {
      # APPROX: a k6 check only records; after a failed check the script
      # goes on with the next request. Here a failed expectation is an
      # error and ends the pass.
      step "csrf token" {
        post    = "/api/csrf-token"
        headers = { "Content-Type" = "application/json" }
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
