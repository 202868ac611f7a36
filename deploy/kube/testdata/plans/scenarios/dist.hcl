# A distributed plan for the manifest tests: its workload lies in a sibling
# folder, its shop sets knobs of several kinds, and its variables and shape
# can be overridden as `lab plan` would be asked to.

variable "duration" {
  default = "20s"
}

variable "users" {
  default = 12
}

# The tests set the topology to 3 workers after loading: lang refuses more
# than 1 until the master and workers are built.
variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

sut "shop" {
  listen        = trimprefix(var.host, "http://")
  latency       = "5ms"
  error_rate    = "1%"
  route_latency = { "POST /checkout" = "50ms" }
}

workload "shop" {
  source = "../workloads/small.workload.hcl"
  host   = var.host
}

shape "steady" {
  duration = var.duration

  stage {
    until      = "20s"
    users      = var.users
    spawn_rate = 5
  }
}

shape "burst" {
  duration = var.duration

  stage {
    until      = "20s"
    users      = var.users * 2
    spawn_rate = 20
  }
}

run {
  shape = "steady"
}

sla "all" {
  p95 = "300ms"
}

topology {
  workers        = var.workers
  on_worker_loss = "resplit"
}
