# Harbor (goharbor/perf), its k6 test scripts/test/get-v2.js written as a
# lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "https://127.0.0.1:443" # HARBOR_SCHEME://HARBOR_HOST
}

# The successRate custom metric (a Rate: the share of answers with 200 or
# 401) is the expectation below: its failures are the run's error rate.
#
# Outside a plan's scope (not counted as approximation): handleSummary
# writes Harbor's own report (generateSummary); lab writes its own
# results. The thresholds on iteration_duration (max >= 0) always hold.

workload "harbor" {
  host                 = var.host
  insecure_skip_verify = true # insecureSkipTLSVerify: true
  redirects            = 10   # k6 follows up to 10 redirects (maxRedirects)

  user "vu" {
    task "v2" {
      get = "/v2/"
      expect {
        status = [200, 401]
      }
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
