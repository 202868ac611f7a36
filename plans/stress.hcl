# Steps the load up until the shop breaks, to find its knee: checkout holds a
# shared resource, so its latency grows with concurrency. Two shapes: users
# in steps (closed model, the default) or arrivals ramping up (open model).
#   lab apply plans/stress.hcl --shape arrivals

variable "duration" {
  description = "total length of the run, the stages keeping their proportions (unset: the shape's own)"
  type        = string
  default     = null
}

variable "users" {
  description = "users at the last step; the steps before are fractions of it (unset: 400)"
  type        = number
  default     = null
}

variable "rate" {
  description = "arrivals per second at the end of the open-model ramp (unset: 800/s)"
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
  listen     = trimprefix(var.host, "http://")
  latency    = "5ms"
  contention = "2ms"
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

# The shapes are shop.shapes.hcl's: stress (users in steps) and arrivals
# (the open-model ramp), shared with the other scenarios.
shapes {
  source = "shop.shapes.hcl"
}

run {
  shape = "stress"
}

# Past the knee the run has told what it can: stop after a minute of errors.
sla "all" {
  error_rate  = "5%"
  window      = "20s"
  abort_after = 3
}

sla "POST /checkout" {
  p95 = "1s"
}

topology {
  workers = var.workers
}
