# Harbor (goharbor/perf), its k6 test scripts/test/list-projects.js written
# as a lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "https://127.0.0.1:443" # HARBOR_SCHEME://HARBOR_HOST
}

# base64 of HARBOR_USERNAME:HARBOR_PASSWORD (default admin:Harbor12345)
variable "basic_auth" {
  default   = "YWRtaW46SGFyYm9yMTIzNDU="
  sensitive = true
}

# APPROX: the script calls Harbor through the xk6-harbor extension
# (harbor.listProjects); the plan sends the REST request it makes,
# GET /api/v2.0/projects with basic auth.
#
# APPROX: insecureSkipTLSVerify (Settings().Harbor.insecure): lab cannot
# skip TLS verification.
#
# APPROX: successRate (a custom Rate) is the error rate here.

workload "harbor" {
  host = var.host
  headers = {
    Authorization = "Basic ${var.basic_auth}"
  }

  user "vu" {
    # APPROX: setup() asks once, before the run, how many projects there are
    # (page 1, size 1, the X-Total-Count header) and hands the count to
    # every VU. lab has no step before the run: each user asks once in its
    # start block, so the plan sends one more request per user.
    start {
      step "count projects" {
        get     = "/api/v2.0/projects"
        query   = { page = 1, page_size = 1 }
        capture = { total = tonumber(response.headers["x-total-count"]) }
      }
    }

    task "list projects" {
      get   = "/api/v2.0/projects"
      query = { page = random_int(1, max(1, ceil(captured.total / 15))), page_size = 15 }
    }
  }
}

# APPROX: 500 VUs share 1000 iterations (at most 24h), then the test ends;
# lab runs for a time, not a number of passes.
shape "shared-iterations" {
  stage {
    until = "10s"
    users = 500
  }
}
