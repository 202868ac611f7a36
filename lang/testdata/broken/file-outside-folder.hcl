# file() reads only within the plan's folder: not a machine's secrets.
workload "w" {
  host = "http://127.0.0.1:8080"

  user "u" {
    task "t" {
      post = "/"
      body = file("/etc/hostname") # ERROR
    }
  }
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
