# A plan against a service that runs elsewhere: no shop, no host variable.

workload "api" {
  source = "../workloads/small.workload.hcl"
  host   = "http://api.example.test:8000"
}

shape "steady" {
  duration = "10s"

  stage {
    until = "10s"
    users = 2
  }
}
