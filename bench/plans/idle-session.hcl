# idle.hcl with a session: each user logs in once (a start block), keeps
# the session cookie the answer sets (bench/target sets one under /s/) in
# its jar, sends one request with it, then waits a minute. Beside idle.hcl
# it measures what a cookie jar costs a waiting user.

variable "host" {
  default = "http://127.0.0.1:9099"
}

variable "users" {
  default = 10000
}

variable "duration" {
  default = "40s"
}

workload "bench" {
  host            = var.host
  max_connections = 64
  cookies         = "user"

  user "idle" {
    wait = constant("60s")

    start {
      step "login" {
        post = "/s/login"
        form = { username = "u${user.id}", password = "secret" }
      }
    }

    task "get" {
      get = "/s/"
    }
  }
}

shape "hold" {
  duration = var.duration

  stage {
    until = "40s"
    users = var.users
  }
}
