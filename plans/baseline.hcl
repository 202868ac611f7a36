# Steady open-model load at a rate the shop carries easily: the run that
# later runs are compared against. Save a run as the baseline with
#   lab apply plans/baseline.hcl && cp -r results/baseline/latest results/baseline/baseline

variable "duration" {
  default = "5m"
}

variable "rate" {
  description = "arrivals per second; each runs one task or one pass of the checkout funnel"
  default     = "50/s"
}

variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "baseline" {
  default = "results/baseline/baseline"
}

sut "shop" {
  listen  = trimprefix(var.host, "http://")
  latency = "5ms"
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shape "steady" {
  duration = var.duration

  stage {
    until = "5m"
    rate  = var.rate
  }
}

sla "all" {
  p95        = "100ms"
  p99        = "250ms"
  error_rate = "0.5%"
}

sla "GET /products*" {
  p95 = "50ms"
}

regression {
  baseline       = var.baseline
  p95_growth     = "10%"
  rps_drop       = "5%"
  error_rate_inc = "0.5%"
}

topology {
  workers = var.workers
}
