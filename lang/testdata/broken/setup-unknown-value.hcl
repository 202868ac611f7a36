variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  setup {
    step "cart" {
      post    = "/cart"
      json    = {}
      capture = { cart = response.json.cart_id }
    }
  }

  user "u" {
    task "cart" {
      get  = "/cart/${setup.card}" # ERROR
      name = "/cart/:id"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
