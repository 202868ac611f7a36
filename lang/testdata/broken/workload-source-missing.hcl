variable "host" {
  default = "http://127.0.0.1:8080"
}

workload "w" {
  host   = var.host
  source = "missing.workload.hcl" # ERROR
}

shape "steady" {
  stage {
    until      = "1m"
    users      = 10
    spawn_rate = 5
  }
}

sla "GET /" {
  p95 = "200ms"
}
