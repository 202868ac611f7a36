sla "all" {
  p95 = "200ms"
  p99         =     "500ms"
  error_rate="1%"
}

sla "POST /checkout" {
  p99 = "800ms"
  error_rate  = "0.5%"
  window= "10s"
  abort_after =3
}

regression {
  baseline = "results/smoke"
  p95_growth= "10%"
  rps_drop    = "5%"
  error_rate_inc ="0.5%"
}
