# A setup that makes data once, before the load: it opens one cart, and
# every user (on every worker) reads that cart by the id the setup
# captured; the teardown checks it out when the load is over.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "duration" {
  default = "4s"
}

variable "product" {
  default = 7
}

workload "shop" {
  host = var.host

  setup {
    step "health" {
      get = "/healthz"
      expect {
        json = { status = "ok" }
      }
    }
    step "cart" {
      post    = "/cart"
      json    = { product_id = var.product, qty = 1 }
      capture = { cart = response.json.cart_id }
    }
  }

  teardown {
    step "checkout" {
      post = "/checkout"
      json = { cart_id = setup.cart }
      expect {
        json = ["order_id"]
      }
    }
  }

  user "viewer" {
    wait = constant("50ms")

    task "cart" {
      get  = "/cart/${setup.cart}"
      name = "/cart/:id"
      expect {
        status = 200
        that   = response.json.cart_id == setup.cart
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

sla "all" {
  error_rate = "0%"
}
