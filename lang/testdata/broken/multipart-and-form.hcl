variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host = var.host

  user "u" {
    task "upload" {
      post      = "/upload"
      form      = { title = "q3" }
      multipart = { report = file_part("q3.csv", "a,b\n1,2\n", "text/csv") } # ERROR
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 1
  }
}
