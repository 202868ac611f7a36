variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "browser" {
    sequence "page" {
      step "flags" {
        host = "flagd:8013" # ERROR
        get  = "/flags"
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
