# Logs in to a real Django with its own auth views, once per user, and
# browses pages that need the login: the CSRF token comes from the cookie
# Django sets (cookie("csrftoken")), the session cookie it answers the
# login with is kept in the user's jar for every later request.

variable "host" {
  default = "http://127.0.0.1:8000"
}

variable "duration" {
  default = "6s"
}

variable "users" {
  default = 5
}

workload "django" {
  host    = var.host
  cookies = "user"

  user "member" {
    wait = constant("200ms")

    start {
      step "login page" {
        get = "/accounts/login/"
        expect {
          status        = 200
          body_contains = "csrfmiddlewaretoken"
        }
      }

      step "login" {
        post = "/accounts/login/"
        form = {
          username            = "user${user.id}"
          password            = "secret-pw"
          csrfmiddlewaretoken = cookie("csrftoken")
          next                = "/whoami/"
        }
        capture = { session = response.cookies["sessionid"] }
        expect {
          status = 302 # Django's answer to a good login; a bad one is 200 with the form again
        }
      }
    }

    task "whoami" {
      get = "/whoami/"
      expect {
        status = 200
        json   = ["user", "session"]
      }
    }

    task "item" {
      get  = "/items/${random_int(1, 9)}/"
      name = "/items/:id/"
      expect {
        status = 200
        json   = ["user"]
      }
    }
  }
}

shape "steady" {
  stage {
    until = var.duration
    users = var.users
  }
}

sla "all" {
  error_rate = "0%"
}
