variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  setup {
    batch { # ERROR
      step "health" {
        get = "/health"
      }
      step "ready" {
        get = "/ready"
      }
    }
  }

  user "browser" {
    task "home" {
      get = "/"
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
