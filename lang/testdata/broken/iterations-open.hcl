variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "home" {
      get = "/"
    }
  }
}

shape "open" {
  iterations = 10 # ERROR

  stage {
    until = "1m"
    rate  = "10/s"
  }
}
