variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    sequence "s" {
      step "list" {
        get    = "/products"
        repeat = -1 # ERROR
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
