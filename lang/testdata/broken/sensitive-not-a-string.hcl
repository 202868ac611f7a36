# sensitive is for secrets written as strings: a number is not one.
variable "users" {
  type      = number
  default   = 10
  sensitive = true # ERROR
}

workload "w" {
  host = "http://127.0.0.1:8080"

  user "u" {
    task "t" {
      get = "/"
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = var.users
  }
}
