variable "host" {
  default = "http://127.0.0.1:8080"
}

locals {
  product = random_int(1, 500) # ERROR
}

workload "w" {
  host = var.host

  user "u" {
    task "home" {
      get = "/products/${local.product}"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
