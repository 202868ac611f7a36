workload "w" {
  host = "http://127.0.0.1:8080"

  user "u" {
    wait = constant("1s")

    task "home" {
      get = "/"
    }
  }
}

shapes {
  source = "shapes-file-duplicate.shapes.hcl"
}

shape "steady" { # ERROR
  stage {
    until = "1m"
    users = 5
  }
}
