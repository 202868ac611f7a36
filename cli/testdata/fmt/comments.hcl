/*
 * The smoke plan, as someone typed it.
 */
workload "shop" {
  source = "shop.workload.hcl"   # the funnel
    host = var.host // from -var host=...
}

# Budgets.
sla "all" {
      # latency first
  p95 = "250ms" # generous
  error_rate = "5%"     // for now
}

leak {
  memory = pid(sut.shop)  # the shop we start
    growth = "10MB/min"
}
