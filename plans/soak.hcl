# Hours of moderate load: memory must stay flat. The shop makes garbage on
# every request (a sawtooth a naive detector would call a leak) but keeps
# none of it, so the leak hunter must pass this run.

variable "duration" {
  description = "total length of the run, the stages keeping their proportions (unset: the shape's own)"
  type        = string
  default     = null
}

variable "users" {
  description = "steady users (unset: 50)"
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

sut "shop" {
  listen   = trimprefix(var.host, "http://")
  latency  = "5ms"
  gc_churn = "256KB"
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

# The soak shape is shop.shapes.hcl's, shared with the other scenarios.
shapes {
  source = "shop.shapes.hcl"
}

run {
  shape = "soak"
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
