variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    sequence "s" {
      on_failure = "ignore" # ERROR
      step "home" {
        get = "/"
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
