variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "vote" {
      post = "/vote"
      when = user.id % 2 == 0 # ERROR
    }
  }
}

shape "open" {
  stage {
    until = "1m"
    rate  = "10/s"
  }
}
