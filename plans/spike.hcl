# A 20-user baseline, a sudden 10x spike at 2 minutes for 1 minute, then
# recovery until 6 minutes. -var duration=30s gives the same spike in 30 s.

variable "duration" {
  description = "total length of the run, the stages keeping their proportions (unset: the shape's own)"
  type        = string
  default     = null
}

variable "users" {
  description = "users before and after the spike, which has ten times as many (unset: 20)"
  type        = number
  default     = null
}

variable "rate" {
  description = "arrivals per second of the arrivals shape (--shape arrivals; unset: 800/s)"
  type        = string
  default     = null
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

# The spike shape, with stress, arrivals and soak, is in shop.shapes.hcl:
# the scenarios share them. --shape or LAB_SHAPE runs another of them
# against this plan's budgets.
shapes {
  source = "shop.shapes.hcl"
}

run {
  shape = "spike"
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
