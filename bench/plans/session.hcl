# The generator benchmark with a cookie jar: each user logs in once (a
# start block) and every request after carries the session cookie, whose
# answer sets it again (bench/target does under /s/). Beside closed.hcl it
# measures what a jar costs per request.

variable "host" {
  default = "http://127.0.0.1:9099"
}

variable "users" {
  default = 64
}

variable "duration" {
  default = "10s"
}

workload "bench" {
  host    = var.host
  cookies = "user"

  user "client" {
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

shape "flat" {
  duration = var.duration

  stage {
    until = "10s"
    users = var.users
  }
}
