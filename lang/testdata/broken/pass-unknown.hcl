variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    sequence "buy" {
      pass {
        product = random_int(1, 500)
      }
      step "add" {
        post = "/cart"
        json = { product_id = pass.prodct } # ERROR
      }
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
