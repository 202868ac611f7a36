variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "list" {
      get  = "/products?page=${repeat.index}" # ERROR
      name = "/products"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
