# A short, gentle run that every change should pass: a few users, the whole
# funnel, budgets the shop meets. The shop answers 1% of checkouts with a
# 200 that has no order id, so the failure path is exercised too.

variable "duration" {
  default = "30s"
}

variable "users" {
  default = 10
}

variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

sut "shop" {
  listen     = trimprefix(var.host, "http://")
  latency    = "2ms"
  wrong_rate = 0.01
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shape "smoke" {
  duration = var.duration

  stage {
    until      = "30s"
    users      = var.users
    spawn_rate = 10
  }
}

sla "all" {
  p95        = "250ms"
  error_rate = "5%"
}

sla "POST /checkout" {
  p99        = "500ms"
  error_rate = "5%"
}

topology {
  workers = var.workers
}
