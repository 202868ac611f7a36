variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

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
  stage {
    until = "2m"
    users = 50
  }
  stage {
    until = "3m"
    users = 10
  }
}

sla "GET /" {
  stage = [1, 3] # ERROR
  p99   = "350ms"
}
