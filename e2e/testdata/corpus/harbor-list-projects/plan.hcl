# Harbor (goharbor/perf), its k6 test scripts/test/list-projects.js written
# as a lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "https://127.0.0.1:443" # HARBOR_SCHEME://HARBOR_HOST
}

variable "username" {
  default = "admin" # HARBOR_USERNAME
}

variable "password" {
  default   = "Harbor12345" # HARBOR_PASSWORD
  sensitive = true
}

# Harbor's client authenticates with basic auth.
locals {
  basic = "Basic ${base64encode("${var.username}:${var.password}")}"
}

# APPROX: the script calls Harbor through the xk6-harbor extension
# (harbor.listProjects, Harbor's Go client); the plan sends the REST
# request that client makes, GET /api/v2.0/projects with basic auth, as
# read from Harbor's API, not from the extension's traffic.
#
# The successRate custom metric (a Rate: a call that did not throw) is the
# error rate here.
#
# Outside a plan's scope (not counted as approximation): handleSummary
# writes Harbor's own report (generateSummary); lab writes its own
# results. The thresholds on iteration_duration (max >= 0) always hold.

workload "harbor" {
  host                 = var.host
  insecure_skip_verify = true # Settings().Harbor.insecure
  headers = {
    Authorization = local.basic
  }

  # setup(): how many projects there are (page 1, size 1: the
  # X-Total-Count header), handed to every VU.
  setup {
    step "count projects" {
      get     = "/api/v2.0/projects"
      query   = { page = 1, page_size = 1 }
      capture = { total = tonumber(response.headers["x-total-count"]) }
    }
  }

  user "vu" {
    task "list projects" {
      # pages = ceil(projectsCount / 15); page = floor(random() * pages) + 1
      get   = "/api/v2.0/projects"
      query = { page = random_int(1, max(1, ceil(setup.total / 15))), page_size = 15 }
    }
  }
}

# options: vus 500, iterations 1000, duration 24h: k6's shared-iterations
# executor, 1000 iterations shared by 500 VUs, ended after 24h at most.
shape "shared-iterations" {
  shared_iterations = 1000
  stage {
    until = "24h"
    users = 500
  }
}
