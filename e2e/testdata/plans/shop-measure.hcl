# Numbers read off the shop's answers: each new cart's total and its count
# of lines, recorded as measures and judged by measure blocks (k6's custom
# Trend and its thresholds).

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "duration" {
  default = "3s"
}

variable "max_total" {
  default = 1000000
}

workload "shop" {
  host = var.host

  user "buyer" {
    wait = constant("20ms")

    task "cart" {
      post = "/cart"
      json = { product_id = random_int(1, 500), qty = random_int(1, 3) }
      measure = {
        cart_total = response.json.total
        lines      = length(response.json.items)
      }
    }
  }
}

shape "steady" {
  stage {
    until = var.duration
    users = 4
  }
}

measure "lines" {
  unit = "lines"
  max  = 1
  min  = 1
}

measure "cart_total" {
  p50 = var.max_total
}

sla "all" {
  error_rate = "1%"
}
