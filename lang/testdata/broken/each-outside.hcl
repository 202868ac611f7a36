variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "category" {
      get = "/category/${each.value}" # ERROR
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
