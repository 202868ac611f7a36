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
      step "view" {
        get  = "/products/${pass.product}"
        name = "/products/:id"
      }
    }

    task "other" {
      get  = "/products/${pass.product}" # ERROR
      name = "/products/:id"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
