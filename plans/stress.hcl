# Steps the load up until the shop breaks, to find its knee: checkout holds a
# shared resource, so its latency grows with concurrency. Two shapes: users
# in steps (closed model) or arrivals ramping up (open model).
#   lab apply plans/stress.hcl -var shape=arrivals

variable "duration" {
  default = "6m"
}

variable "users" {
  description = "users at the last step; the steps before are fractions of it"
  default     = 400
}

variable "rate" {
  description = "arrivals per second at the end of the open-model ramp"
  default     = "800/s"
}

variable "shape" {
  default = "steps"
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

run {
  shape = var.shape
}

shape "steps" {
  duration = var.duration

  stage {
    until      = "1m30s"
    users      = ceil(var.users / 8)
    spawn_rate = 10
  }
  stage {
    until      = "3m"
    users      = ceil(var.users / 4)
    spawn_rate = 10
  }
  stage {
    until      = "4m30s"
    users      = ceil(var.users / 2)
    spawn_rate = 10
  }
  stage {
    until      = "6m"
    users      = var.users
    spawn_rate = 10
  }
}

shape "arrivals" {
  duration      = var.duration
  max_in_flight = 2000

  stage {
    until = "6m"
    rate  = var.rate
    ramp  = true
  }
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
