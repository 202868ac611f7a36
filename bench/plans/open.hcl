# The open-model generator benchmark: arrivals at a fixed rate, each one
# GET / against the benchmark target; what the generator costs while it
# waits for each arrival's due time, and how late it starts them.

variable "host" {
  default = "http://127.0.0.1:9099"
}

variable "rate" {
  default = "500/s"
}

variable "duration" {
  default = "10s"
}

workload "bench" {
  host = var.host

  user "arrival" {
    task "get" {
      get = "/"
    }
  }
}

shape "steady" {
  duration = var.duration

  stage {
    until = var.duration
    rate  = var.rate
  }
}
