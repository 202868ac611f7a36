# Open edX (edx/edx-load-tests), the enrollment API's Locust file
# (loadtests/enrollment/locustfile.py) written as a lab plan. See SOURCE.txt.
#
# UserBehavior picks one of four nested TaskSets by weight (5, 5, 5, 1).
# None of them ever calls interrupt(), so a user stays in the one it got:
# each TaskSet is a user class here, with the same weights.

variable "host" {
  default = "http://127.0.0.1:8000"
}

# COURSE_ID_LIST from the test's settings file
variable "courses" {
  default = ["course-v1:edX+DemoX+Demo_Course", "course-v1:edX+E2E-101+course"]
}

variable "users" {
  default = 16
}

variable "duration" {
  default = "5m"
}

# The optional BASIC_AUTH_USER setting (client.auth) is left out, as the
# settings file leaves it out; with it, add an Authorization header.
#
# auto_auth makes a user named "success" and 20 hex digits of a fresh
# UUID, with the email NAME@simulator.amazonses.com: each start block
# draws the name once per user (pass) and sends both.
#
# APPROX: a 403 from the API makes the script log in again as a new user
# (auto_auth), and a 403 during on_start's enrollments makes Locust pick
# a task set again; a request that fails otherwise (auto_auth too) is
# only counted, and the user goes on (the start blocks go on after a
# failed step). A lab step can send the login only after a 403
# (capture_failed on the request, when on the login), but the new user's
# name lasts one pass: a task's captures do not outlive it, where the
# script's self.username does, and a start block does not start over. So
# a 403 counts as an error and the user goes on as it was, in its tasks
# and in its start block alike.

workload "edx" {
  host                 = var.host
  cookies              = "user" # the Locust session: sessionid and csrftoken
  insecure_skip_verify = true   # every request is sent with verify=False
  redirects            = 20     # requests follows redirects (30 at most; 20 is lab's most)

  user "AuthenticatedAndEnrolled" {
    weight = 5
    wait   = between("1ms", "5ms") # min_wait = 1, max_wait = 5 (milliseconds)

    start {
      on_failure = "continue" # a failed request is only counted
      pass {
        username = "success${substr(replace(uuid(), "-", ""), 0, 20)}" # self.username
      }
      step "auto_auth" {
        get          = "/auto_auth"
        name         = "/auto_auth"
        query        = { password = "test", username = captured.username, email = "${captured.username}@simulator.amazonses.com" }
        drop_cookies = ["sessionid"] # auto_auth deletes the old session first (none yet)
      }
      step "enroll" {
        # for course_id in COURSE_ID_LIST: enroll
        repeat  = length(var.courses)
        post    = "/api/enrollment/v1/enrollment"
        json    = { course_details = { course_id = var.courses[repeat.index] } }
        headers = { Accept = "application/json", "X-CSRFToken" = cookie("csrftoken"), Referer = var.host }
      }
    }

    task "user_enrollment_status" {
      get  = "/api/enrollment/v1/enrollment/${captured.username},${random_choice(var.courses)}"
      name = "/api/enrollment/v1/enrollment/{user},{course_key}"
    }

    task "list_enrollments" {
      get = "/api/enrollment/v1/enrollment"
    }
  }

  user "AuthenticatedButNotEnrolled" {
    weight = 5
    wait   = between("1ms", "5ms")

    start {
      on_failure = "continue" # a failed request is only counted
      pass {
        username = "success${substr(replace(uuid(), "-", ""), 0, 20)}" # self.username
      }
      step "auto_auth" {
        get          = "/auto_auth"
        name         = "/auto_auth"
        query        = { password = "test", username = captured.username, email = "${captured.username}@simulator.amazonses.com" }
        drop_cookies = ["sessionid"] # auto_auth deletes the old session first (none yet)
      }
    }

    task "user_enrollment_status" {
      get  = "/api/enrollment/v1/enrollment/${captured.username},${random_choice(var.courses)}"
      name = "/api/enrollment/v1/enrollment/{user},{course_key}"
    }

    task "list_enrollments" {
      get = "/api/enrollment/v1/enrollment"
    }
  }

  user "NotAuthenticated" {
    weight = 5
    wait   = between("1ms", "5ms")

    task "enrollment_detail_for_course" {
      get  = "/api/enrollment/v1/course/${random_choice(var.courses)}"
      name = "/api/enrollment/v1/course/{course_key}"
    }
  }

  user "EnrollNewUser" {
    weight = 1
    wait   = between("1ms", "5ms")

    start {                   # on_start: _reset, a new user
      on_failure = "continue" # a failed request is only counted
      pass {
        username = "success${substr(replace(uuid(), "-", ""), 0, 20)}" # self.username
      }
      step "auto_auth" {
        get          = "/auto_auth"
        name         = "/auto_auth"
        query        = { password = "test", username = captured.username, email = "${captured.username}@simulator.amazonses.com" }
        drop_cookies = ["sessionid"] # auto_auth deletes the old session first (none yet)
      }
    }

    # Each pass enrolls the user in the next course of the list; the pass
    # after the last course logs in as a new user instead (_reset), and the
    # list starts over: a cycle of length(courses) + 1 passes, counted by
    # user.iteration.
    # _reset deletes the sessionid cookie before auto_auth (drop_cookies).
    sequence "enroll" {
      pass {
        username = "success${substr(replace(uuid(), "-", ""), 0, 20)}" # the new user of _reset
      }
      step "enroll" {
        when    = user.iteration % (length(var.courses) + 1) < length(var.courses)
        post    = "/api/enrollment/v1/enrollment"
        json    = { course_details = { course_id = element(var.courses, user.iteration % (length(var.courses) + 1)) } }
        headers = { Accept = "application/json", "X-CSRFToken" = cookie("csrftoken"), Referer = var.host }
      }
      step "auto_auth" {
        when         = user.iteration % (length(var.courses) + 1) == length(var.courses)
        get          = "/auto_auth"
        name         = "/auto_auth"
        query        = { password = "test", username = pass.username, email = "${pass.username}@simulator.amazonses.com" }
        drop_cookies = ["sessionid"]
      }
    }
  }
}

shape "steady" {
  stage {
    until      = var.duration
    users      = var.users
    spawn_rate = 1
  }
}
