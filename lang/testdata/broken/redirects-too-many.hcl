variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host      = var.host
  redirects = 50 # ERROR

  user "u" {
    task "home" {
      get = "/"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
