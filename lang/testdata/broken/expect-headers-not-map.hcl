variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "home" {
      get = "/"

      expect {
        headers = ["content-type"] # ERROR
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
