variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "browser" {
    task "login" { # ERROR
      get          = "/login"
      drop_cookies = ["sessionid"]
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
