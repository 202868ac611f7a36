# The load shapes the scenarios share. plans/stress.hcl, spike.hcl and
# soak.hcl read this file with shapes { source = "shop.shapes.hcl" }, and so
# does plans/shop.hcl, where LAB_SHAPE picks one of them:
#   LAB_SHAPE=spike lab apply plans/shop.hcl
#
# A shapes file holds shape blocks only, evaluated with the variables of
# the plan that reads it: duration, users and rate. Each left null keeps
# the shape's own length or load, written here as the second argument of
# coalesce; -var duration=60s scales every stage, keeping its proportions.

# Users in four steps up to the shop's knee: checkout holds a shared
# resource, so its latency grows with concurrency.
shape "stress" {
  duration = var.duration

  stage {
    until      = "1m30s"
    users      = ceil(coalesce(var.users, 400) / 8)
    spawn_rate = 10
  }
  stage {
    until      = "3m"
    users      = ceil(coalesce(var.users, 400) / 4)
    spawn_rate = 10
  }
  stage {
    until      = "4m30s"
    users      = ceil(coalesce(var.users, 400) / 2)
    spawn_rate = 10
  }
  stage {
    until      = "6m"
    users      = coalesce(var.users, 400)
    spawn_rate = 10
  }
}

# The stress test in the open model: arrivals ramp up whatever the shop's
# answers take, so a slowing shop piles up requests in flight.
shape "arrivals" {
  duration      = var.duration
  max_in_flight = 2000

  stage {
    until = "6m"
    rate  = coalesce(var.rate, "800/s")
    ramp  = true
  }
}

# A sudden tenfold spike at 2 minutes for 1 minute, then recovery.
shape "spike" {
  duration = var.duration

  stage {
    until      = "2m"
    users      = coalesce(var.users, 20)
    spawn_rate = 5
  }
  stage {
    until      = "3m"
    users      = coalesce(var.users, 20) * 10
    spawn_rate = 50 # the spike
  }
  stage {
    until      = "6m"
    users      = coalesce(var.users, 20)
    spawn_rate = 50 # recovery
  }
}

# An hour of moderate, steady load: memory must stay flat.
shape "soak" {
  duration = var.duration

  stage {
    until      = "1h"
    users      = coalesce(var.users, 50)
    spawn_rate = 5
  }
}
