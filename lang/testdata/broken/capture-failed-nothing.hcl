variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "browser" {
    sequence "login" {
      step "login" {
        post           = "/login"
        capture_failed = true # ERROR
      }
      step "home" {
        get = "/"
      }
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
