variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "t" {
      get = "/"
    }
  }
}

shape "s" {
  stage {
    until = "10s"
    users = 1
  }
}

topology {
  placement = ["node.labels.lab"] # ERROR
}
