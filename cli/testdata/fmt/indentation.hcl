# Indented with tabs, with three spaces, and not at all.
workload "shop" {
	source = "shop.workload.hcl"
      host = "http://127.0.0.1:8080"
}

shape "steady" {
duration = "3m"
   stage {
  until = "3m"
        rate = "50/s"
    }
}
