# Idle memory per virtual user: every user sends one request, then waits a
# minute; the connections are capped so that what is measured is the users.

variable "host" {
  default = "http://127.0.0.1:9099"
}

variable "users" {
  default = 10000
}

variable "duration" {
  default = "40s"
}

workload "bench" {
  host            = var.host
  max_connections = 64

  user "idle" {
    wait = constant("60s")

    task "get" {
      get = "/"
    }
  }
}

shape "hold" {
  duration = var.duration

  stage {
    until = "40s"
    users = var.users
  }
}
