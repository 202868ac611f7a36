# VilnaCRM user service (VilnaCRM-Org/user-service), its k6 GraphQL test
# tests/Load/scripts/graphql/graphQLGetUser.js, with the options its
# helpers build from config.json.dist, written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://localhost:8081" # API_HOST:API_PORT
}

# The users (an id and an access token each) are made before the run by
# the suite's prepare step (insertUsers), which writes users.json, and the
# script reads that file. The corpus keeps no such file: these two rows
# are placeholders, and with the file beside the plan the variable would be
# locals { users = jsondecode(file("users.json")) }.
variable "users" {
  default = [
    { id = "00000000-0000-0000-0000-000000000001", accessToken = "token-1" },
    { id = "00000000-0000-0000-0000-000000000002", accessToken = "token-2" },
  ]
}

# MailCatcher (API_HOST:MAILCATCHER_PORT), whose messages teardown()
# deletes (tests/Load/utils/mailCatcherUtils.js: http.del(…/messages)).
variable "mailcatcher" {
  default = "http://localhost:1080"
}

workload "user-service" {
  host      = var.host
  redirects = 10 # k6 follows up to 10 redirects (maxRedirects)

  # teardown(): MailCatcher is another host (host on the step).
  teardown {
    step "clear messages" {
      host   = var.mailcatcher
      delete = "/messages"
    }
  }

  user "getUser" {
    task "user" {
      post = "/api/graphql"
      # users[counter.up() % users.length]: each request takes the next row
      # of the file; user.id is the arrival's number in the open model.
      headers = { Authorization = "Bearer ${element(var.users, user.id).accessToken}" } # getJsonHeaderWithAuth
      json    = { query = "query{ user(id: \"/api/users/${element(var.users, user.id).id}\"){ id } }" }
      expect {
        status = 200
        # JSON.parse(res.body).data.user.id === id: the id asked for
        that = response.json.data.user.id == "/api/users/${element(var.users, user.id).id}"
      }
    }
  }
}

# The four scenarios of config.json.dist, one after the other with
# delayBetweenScenarios (30s) between them: smoke (constant-arrival-rate,
# 10/s for 10s), average (ramping-arrival-rate to 50/s in 5s, 20s there,
# to 0 in 5s), stress (the same to 300/s) and spike (to 400/s in 10s, to 0
# in 10s).
shape "smoke-average-stress-spike" {
  # APPROX: k6 caps each scenario at its preAllocatedVUs (10, 50, 300,
  # 400 requests in flight); lab has one cap for the shape.
  max_in_flight = 400

  stage {
    until = "10s"
    rate  = 10
  }
  stage {
    until = "40s"
    rate  = 0
  }
  stage {
    until = "45s"
    rate  = 50
    ramp  = true
  }
  stage {
    until = "65s"
    rate  = 50
  }
  stage {
    until = "70s"
    rate  = 0
    ramp  = true
  }
  stage {
    until = "100s"
    rate  = 0
  }
  stage {
    until = "105s"
    rate  = 300
    ramp  = true
  }
  stage {
    until = "125s"
    rate  = 300
  }
  stage {
    until = "130s"
    rate  = 0
    ramp  = true
  }
  stage {
    until = "160s"
    rate  = 0
  }
  stage {
    until = "170s"
    rate  = 400
    ramp  = true
  }
  stage {
    until = "180s"
    rate  = 0
    ramp  = true
  }
}

# Each scenario has its own thresholds (its stages: stage = [...]): p99
# below 350ms (smoke), 200ms (average), 6000ms (stress) and 8000ms
# (spike), and checks above 99% (here a failed check fails its request:
# an error rate).
# APPROX: lab judges a stage on the run's 10 s windows that lie wholly
# inside it; smoke's 10 s hold one only when the run starts on a window's
# boundary, so its budget reads inconclusive otherwise, where k6 judges it.
sla "POST /api/graphql" {
  stage      = 1
  p99        = "350ms"
  error_rate = "1%"
}
sla "POST /api/graphql" {
  stage      = [3, 4, 5]
  p99        = "200ms"
  error_rate = "1%"
}
sla "POST /api/graphql" {
  stage      = [7, 8, 9]
  p99        = "6s"
  error_rate = "1%"
}
sla "POST /api/graphql" {
  stage      = [11, 12]
  p99        = "8s"
  error_rate = "1%"
}
