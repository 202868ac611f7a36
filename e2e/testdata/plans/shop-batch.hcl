# A product page as a browser loads it: the page, then its listing, an
# item and a new cart at once (a batch: k6's http.batch), then a checkout
# of that cart once all three have answered. One user, so any request the
# shop answers beside another comes from the batch.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "duration" {
  default = "3s"
}

workload "shop" {
  host = var.host

  user "browser" {
    wait = constant("20ms")

    sequence "page" {
      step "home" {
        get = "/"
      }

      batch {
        think = constant("10ms")

        step "list" {
          get = "/products?page=${random_int(1, 20)}"
        }
        step "item" {
          get  = "/products/${random_int(1, 500)}"
          name = "/products/:id"
        }
        step "cart" {
          post    = "/cart"
          json    = { product_id = random_int(1, 500), qty = 1 }
          capture = { cart_id = response.json.cart_id }
        }
      }

      step "checkout" {
        post = "/checkout"
        json = { cart_id = captured.cart_id }

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
    users = 1
  }
}

sla "all" {
  error_rate = "0%"
}
