variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host    = var.host
  cookies = "user"

  user "u" {
    start {
      step "login" {
        post    = "/login"
        form    = { username = "u${user.id}", password = "secret" }
        capture = { token = response.json.token }
      }
    }

    task "account" {
      get     = "/account"
      headers = { Authorization = "Bearer ${captured.tokn}" } # ERROR
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
