variable "host" {
  default = "http://127.0.0.1:8080"
}

locals {
  base = "/shop"
}

workload "w" {
  host = var.host

  user "u" {
    task "home" {
      get = "${local.bse}/products" # ERROR
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
