variable "host" {
  default = "https://127.0.0.1:8443"
}

workload "w" {
  host                 = var.host
  insecure_skip_verify = "yes please" # ERROR

  user "u" {
    task "home" {
      get = "/"
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
