workload "w" {
  host = "http://127.0.0.1:8080"

  user "u" {
    wait = constant("1s")

    task "home" {
      get = "/"
    }
  }
}

variable "users" {
  type    = number
  default = null
}

shapes {
  source = "shapes-file-undeclared-variable.shapes.hcl"
}
