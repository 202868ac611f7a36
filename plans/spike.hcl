# A 20-user baseline, a sudden 10x spike at 2 minutes for 1 minute, then
# recovery until 6 minutes. -var duration=30s gives the same spike in 30 s.

variable "duration" {
  description = "total length of the run; the stages keep their proportions"
  default     = "6m"
}

variable "users" {
  description = "baseline users; the spike is ten times as many"
  default     = 20
}

variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

# The bundled misbehaving shop; leave this block out to test your own service.
sut "shop" {
  listen     = trimprefix(var.host, "http://")
  latency    = "5ms"
  error_rate = 0.002
  wrong_rate = 0.001 # 200 OK without an order id
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shape "spike" {
  duration = var.duration

  stage {
    until      = "2m"
    users      = var.users
    spawn_rate = 5
  }
  stage {
    until      = "3m"
    users      = var.users * 10
    spawn_rate = 50 # the spike
  }
  stage {
    until      = "6m"
    users      = var.users
    spawn_rate = 50 # recovery
  }
}

sla "GET /" {
  p95 = "200ms"
}

sla "POST /checkout" {
  p95        = "500ms"
  p99        = "1s"
  error_rate = "1%"
}

sla "all" {
  p99        = "1s"
  error_rate = "1%"
}

topology {
  workers        = var.workers
  on_worker_loss = "fail"
}
