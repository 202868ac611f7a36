variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "shopper" {
    task "health" {
      get = "/healthz"
    }
  }

  user "flagger" {
    host = "http://127.0.0.1:8013"

    task "health" { # ERROR
      get = "/healthz"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
