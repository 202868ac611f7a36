variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host    = var.host
  cookies = "user"

  user "browser" {
    task "login" {
      get          = "/login"
      drop_cookies = "sessionid" # ERROR
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
