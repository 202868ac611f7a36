variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "browser" {
    wait = between("1s", "3s")

    sequence "page" {
      step "html" {
        get = "/"
      }

      batch { # ERROR
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
