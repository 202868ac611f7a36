variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    sequence "s" {
      step "home" {
        get = "/"
      }
      step "vote" {
        post = "/vote"
        when = "sometimes" # ERROR
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
