# The generator benchmark: users that send GET / back to back, no wait, as
# wrk, hey and vegeta do with their connections.

variable "host" {
  default = "http://127.0.0.1:9099"
}

variable "users" {
  default = 64
}

variable "duration" {
  default = "10s"
}

workload "bench" {
  host = var.host

  user "client" {
    task "get" {
      get = "/"
    }
  }
}

shape "flat" {
  duration = var.duration

  stage {
    until = "10s"
    users = var.users
  }
}
