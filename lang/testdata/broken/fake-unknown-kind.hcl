variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "browser" {
    weight = 3
    wait   = between("1s", "3s")

    task "home" {
      get = "/"
    }

    task "product" {
      get  = "/products/${random_int(1, 500)}"
      name = "/products/:id"
    }
  }

  user "buyer" {
    weight = 1
    wait   = constant("1s")

    sequence "checkout" {
      step "add" {
        post    = "/cart"
        json    = { product_id = random_int(1, 500), qty = 1 }
        capture = { cart_id = response.json.cart_id }
      }

      step "pay" {
        post = "/checkout"
        json = { cart_id = captured.cart_id, email = fake("emial") } # ERROR

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
    until      = "1m"
    users      = 10
    spawn_rate = 5
  }
}

sla "GET /" {
  p95 = "200ms"
}
