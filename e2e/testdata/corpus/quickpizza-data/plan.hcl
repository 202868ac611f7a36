# QuickPizza (grafana/quickpizza), its k6 example k6/foundations/09.data.js
# written as a lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "http://localhost:3333" # BASE_URL
}

# The tokens of k6/foundations/data/tokens.json, which the script reads
# into a SharedArray.
variable "tokens" {
  default = ["QivfLrMEt7thtJLQ", "LJwhcDFp0TgvpOtg", "WA1UafNBZrfQMpTf", "NS9RTUgm42fgxe1E", "O62N74Bbt3lNwY6l", "pW6DNdnWppqMl1c6"]
}

# APPROX: the checks threshold (rate > 0.95) has no budget of its own: a
# failed check is a failed request, judged by the 1% error budget with the
# others. The custom trend quickpizza_ingredients is a measure (below,
# with its avg < 8); the counter quickpizza_number_of_pizzas is the
# measure's count of values in result.json.
#
# Outside a plan's scope (not counted as approximation): handleSummary
# writes summary.json and a text summary; lab writes its own results.

workload "quickpizza" {
  host      = var.host
  cookies   = "pass" # k6's jar: a new one each iteration
  redirects = 10     # k6 follows up to 10 redirects (maxRedirects)

  # setup(): GET / once before the run; anything but 200 stops the test.
  setup {
    step "home" {
      get = "/"
      expect {
        status = 200
      }
    }
  }

  # teardown() only logs: nothing to send.

  user "getPizza" {
    wait = constant("1s") # sleep(1) at the end of each iteration

    task "pizza" {
      post = "/api/pizza"
      json = {
        maxCaloriesPerSlice = 500
        mustBeVegetarian    = false
        excludedIngredients = ["pepperoni"]
        excludedTools       = ["knife"]
        maxNumberOfToppings = 6
        minNumberOfToppings = 2
      }
      headers = { Authorization = "Token ${random_choice(var.tokens)}" }
      # check "status is 200" (and the pizza's name and ingredients, which
      # the script reads: without them it throws)
      expect {
        status = 200
        json   = ["pizza.name", "pizza.ingredients"]
      }
      # ingredients.add(res.json().pizza.ingredients.length)
      measure = { quickpizza_ingredients = length(response.json.pizza.ingredients) }
    }
  }
}

# The two scenarios run one after the other: smoke (1 VU for 10s), then
# stress from 10s (ramping-vus: to 5 in 5s, 5 for 10s, to 0 in 5s).
shape "smoke-then-stress" {
  stage {
    until = "10s"
    users = 1
  }
  stage {
    until      = "15s"
    users      = 5
    spawn_rate = 1
  }
  stage {
    until = "25s"
    users = 5
  }
  stage {
    until      = "30s"
    users      = 0
    spawn_rate = 1
  }
}

# thresholds: quickpizza_ingredients: avg<8
measure "quickpizza_ingredients" {
  unit = "ingredients"
  avg  = 8
}

sla "all" {
  error_rate = "1%" # http_req_failed: rate<0.01 (and checks: rate > 0.95)
  p95        = "500ms"
  p99        = "1s"
}
