variable "host" {
  default = "http://127.0.0.1:8080"
}

locals {
  a = "${local.b}/x" # ERROR
  b = "${local.a}/y" # ERROR
}

workload "w" {
  host = var.host

  user "u" {
    task "home" {
      get = "/${local.a}"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
