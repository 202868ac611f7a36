# The shop under one reviewed workload and one set of budgets, in the shape
# LAB_SHAPE picks (spike unless it is set):
#   LAB_SHAPE=stress lab apply plans/shop.hcl     users in steps up to 400
#   LAB_SHAPE=arrivals lab apply plans/shop.hcl   arrivals ramping up to 800/s
#   LAB_SHAPE=spike lab apply plans/shop.hcl      20 users, 200 for a minute
#   LAB_SHAPE=soak lab apply plans/shop.hcl       an hour of 50 users
# The shapes are shop.shapes.hcl's, shared with stress.hcl, spike.hcl and
# soak.hcl, which add the budgets of their own question (the stress test's
# abort rule, the soak's leak hunter). -var duration=60s shortens any shape,
# keeping its proportions.

variable "duration" {
  description = "total length of the run, the stages keeping their proportions (unset: the shape's own)"
  type        = string
  default     = null
}

variable "users" {
  description = "the closed shapes' users: stress's last step, spike's before and after, soak's (unset: 400, 20, 50)"
  type        = number
  default     = null
}

variable "rate" {
  description = "arrivals per second at the end of the arrivals ramp (unset: 800/s)"
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
  contention = "2ms"
  gc_churn   = "256KB"
  error_rate = 0.002
  wrong_rate = 0.001 # 200 OK without an order id
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shapes {
  source = "shop.shapes.hcl"
}

run {
  shape = "spike"
}

# The shop's service levels, whatever the shape.
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
  workers = var.workers
}
