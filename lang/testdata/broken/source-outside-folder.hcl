# A reviewed plan may not read files beside its folder: the workload below
# would come from wherever ../ points on the machine that runs it.
workload "w" {
  host   = "http://127.0.0.1:8080"
  source = "../../../plans/shop.workload.hcl" # ERROR
}

shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
