# Hours of moderate load: memory must stay flat. The shop makes garbage on
# every request (a sawtooth a naive detector would call a leak) but keeps
# none of it, so the leak hunter must pass this run.

variable "duration" {
  default = "1h"
}

variable "users" {
  default = 50
}

variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

sut "shop" {
  listen   = trimprefix(var.host, "http://")
  latency  = "5ms"
  gc_churn = "256KB"
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shape "soak" {
  duration = var.duration

  stage {
    until      = "1h"
    users      = var.users
    spawn_rate = 5
  }
}

sla "all" {
  p95        = "100ms"
  p99        = "500ms"
  error_rate = "0.5%"
  window     = "5m"
}

leak {
  memory          = sut.shop
  warmup          = "5m"
  max_growth_rate = "1MB/min"
  max_growth      = "50MB"
}

topology {
  workers = var.workers
}
