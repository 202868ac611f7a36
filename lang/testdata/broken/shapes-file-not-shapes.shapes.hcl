shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}

# Budgets belong in the plan: a shapes file holds shape blocks only.
sla "all" { # ERROR
  p99 = "1s"
}
