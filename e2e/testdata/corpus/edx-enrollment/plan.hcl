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

# APPROX: requests are sent with verify=False; lab cannot skip TLS
# verification. The optional BASIC_AUTH_USER setting is left out.
#
# APPROX: auto_auth makes a user named "success" and 20 hex digits of a
# fresh UUID; the plan sends such a name and reads it back from the
# answer ("Logged in user NAME ..."), as it cannot keep a drawn value.
#
# APPROX: a 403 from the API makes the script log in again (auto_auth);
# lab has no step that runs only after a given answer: the 403 counts as
# an error and the user goes on.

workload "edx" {
  host    = var.host
  cookies = "user" # the Locust session: sessionid and csrftoken

  user "AuthenticatedAndEnrolled" {
    weight = 5
    wait   = between("1ms", "5ms") # min_wait = 1, max_wait = 5 (milliseconds)

    start {
      step "auto_auth" {
        get     = "/auto_auth"
        name    = "/auto_auth"
        query   = { password = "test", username = "success${substr(replace(uuid(), "-", ""), 0, 20)}", email = "${substr(replace(uuid(), "-", ""), 0, 20)}@simulator.amazonses.com" }
        capture = { username = regex("Logged in user (\\S+)", response.body)[0] }
        # APPROX: the script's email is the username at simulator.amazonses.com;
        # here it is another fresh draw there.
      }
      # APPROX: the script enrolls in every course of COURSE_ID_LIST, a
      # loop over a list of any length; the plan writes one step per course
      # of the default list.
      step "enroll 1" {
        post    = "/api/enrollment/v1/enrollment"
        json    = { course_details = { course_id = var.courses[0] } }
        headers = { Accept = "application/json", "X-CSRFToken" = cookie("csrftoken"), Referer = var.host }
      }
      step "enroll 2" {
        post    = "/api/enrollment/v1/enrollment"
        json    = { course_details = { course_id = var.courses[1] } }
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
      step "auto_auth" {
        get     = "/auto_auth"
        name    = "/auto_auth"
        query   = { password = "test", username = "success${substr(replace(uuid(), "-", ""), 0, 20)}", email = "${substr(replace(uuid(), "-", ""), 0, 20)}@simulator.amazonses.com" }
        capture = { username = regex("Logged in user (\\S+)", response.body)[0] }
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

    start {
      step "auto_auth" {
        get     = "/auto_auth"
        name    = "/auto_auth"
        query   = { password = "test", username = "success${substr(replace(uuid(), "-", ""), 0, 20)}", email = "${substr(replace(uuid(), "-", ""), 0, 20)}@simulator.amazonses.com" }
        capture = { username = regex("Logged in user (\\S+)", response.body)[0] }
      }
    }

    # APPROX: the script enrolls the user in the next course of the list
    # each pass and, when the list is used up, logs in as a new user and
    # starts over. lab keeps no state from pass to pass but the pass
    # count and cannot log in again: the plan walks the list with
    # user.iteration and goes round it again with the same user, enrolling
    # it again in courses it is already in.
    task "enroll" {
      post    = "/api/enrollment/v1/enrollment"
      json    = { course_details = { course_id = element(var.courses, user.iteration) } }
      headers = { Accept = "application/json", "X-CSRFToken" = cookie("csrftoken"), Referer = var.host }
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
