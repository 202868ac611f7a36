# Constant arrivals on a shop that keeps ~50 KB of every checkout forever.
# The leak hunter must fail this run, and pass it with -var leak=0B.

variable "duration" {
  default = "3m"
}

variable "rate" {
  description = "arrivals per second; a quarter are buyers, so 400/s gives 100 checkouts/s"
  default     = "400/s"
}

variable "leak" {
  description = "bytes the shop keeps forever per checkout"
  default     = "50KB"
}

variable "workers" {
  default = 1
}

variable "host" {
  default = "http://127.0.0.1:8080"
}

sut "shop" {
  listen           = trimprefix(var.host, "http://")
  leak_per_request = var.leak
  gc_churn         = "64KB"
}

workload "shop" {
  source = "shop.workload.hcl"
  host   = var.host
}

shape "constant" {
  duration = var.duration

  stage {
    until = "3m"
    rate  = var.rate
  }
}

# A 2-minute window after a 30-second warm-up: a 3-minute run is enough to
# judge this demo; for your own service keep the default (5 minutes) or more.
leak {
  memory          = sut.shop
  warmup          = "30s"
  window          = "2m"
  max_growth_rate = "10MB/min"
  max_growth      = "50MB"
}

sla "all" {
  p99        = "500ms"
  error_rate = "1%"
}

topology {
  workers = var.workers
}
