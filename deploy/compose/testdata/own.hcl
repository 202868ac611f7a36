# A plan against a service of one's own: no sut block, no host or workers
# variable; the stack is the master and its workers only.
workload "api" {
  source = "own.workload.hcl"
  host   = "http://api.internal:9000"
}

shape "steady" {
  duration = "1m"

  stage {
    until = "1m"
    users = 5
  }
}

sla "all" {
  p95 = "200ms"
}

# Workers only on nodes labelled for load, never beside the service.
topology {
  placement = ["node.labels.lab == worker", "node.role != manager"]
}
