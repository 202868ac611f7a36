# Harbor (goharbor/perf), its k6 test scripts/test/get-v2.js written as a
# lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "https://127.0.0.1:443" # HARBOR_SCHEME://HARBOR_HOST
}

# APPROX: insecureSkipTLSVerify: the script accepts any certificate; lab
# has no setting to skip TLS verification, so the target needs a
# certificate this machine trusts.
#
# APPROX: the successRate custom metric (a Rate) is the share of answers
# with 200 or 401; here it is the error rate of the expectation below.
#
# APPROX: handleSummary writes Harbor's own report; lab writes its own.

workload "harbor" {
  host = var.host

  user "vu" {
    task "v2" {
      get = "/v2/"
      expect {
        status = [200, 401]
      }
    }
  }
}

# APPROX: 500 VUs share 1000 iterations (at most 24h), then the test ends.
# lab runs for a time, not for a number of passes; 500 users for 10s stand
# in for it.
shape "shared-iterations" {
  stage {
    until = "10s"
    users = 500
  }
}
