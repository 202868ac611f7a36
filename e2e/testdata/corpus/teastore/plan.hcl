# TeaStore (DescartesResearch/TeaStore), its example Locust file written
# as a lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "http://127.0.0.1:8080"
}

# Locust is given the web UI's URL as its host; a lab host has no path,
# so the UI's path is a prefix of every request.
variable "base" {
  default = "/tools.descartes.teastore.webui"
}

variable "users" {
  default = 10
}

variable "duration" {
  default = "5m"
}

# APPROX: the pass browses randint(2, 5) - 1 times, 1 to 4 rounds of
# category, product and add-to-cart, each with its own random ids, and
# buys in half of the passes. Exact copies would take eight sequences
# (4 round counts times buy or not); the plan writes two rounds, the
# nearest whole count to the mean of 2.5, with and without the purchase.
#
# APPROX: Locust goes on after a failed request (it only logs it); a lab
# sequence ends the pass at the first failed step.
#
# APPROX: the login, cart and logout actions answer with a redirect that
# Locust follows with a GET of the page; lab does not follow redirects.

workload "teastore" {
  host    = var.host
  cookies = "user" # the Locust session keeps the session cookie

  user "behavior" {
    # no wait_time: Locust runs the next pass at once

    sequence "load, buy" {
      step "home" {
        get = "${var.base}/"
      }
      step "login page" {
        get = "${var.base}/login"
      }
      step "login" {
        post  = "${var.base}/loginAction"
        query = { username = random_int(1, 99), password = "password" }
      }
      step "category 1" {
        get   = "${var.base}/category"
        query = { page = random_int(1, 5), category = random_int(2, 6) }
        # the product of this round, drawn once for the two requests that use it
        capture = { product = random_int(7, 506) }
      }
      step "product 1" {
        get   = "${var.base}/product"
        query = { id = captured.product }
      }
      step "add to cart 1" {
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = captured.product }
      }
      step "category 2" {
        get     = "${var.base}/category"
        query   = { page = random_int(1, 5), category = random_int(2, 6) }
        capture = { product = random_int(7, 506) }
      }
      step "product 2" {
        get   = "${var.base}/product"
        query = { id = captured.product }
      }
      step "add to cart 2" {
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = captured.product }
      }
      step "buy" {
        post = "${var.base}/cartAction"
        query = {
          firstname  = "User"
          lastname   = "User"
          adress1    = "Road"
          adress2    = "City"
          cardtype   = "volvo"
          cardnumber = "314159265359"
          expirydate = "12/2050"
          confirm    = "Confirm"
        }
      }
      step "profile" {
        get = "${var.base}/profile"
      }
      step "logout" {
        post  = "${var.base}/loginAction"
        query = { logout = "" }
      }
    }

    sequence "load" {
      step "home" {
        get = "${var.base}/"
      }
      step "login page" {
        get = "${var.base}/login"
      }
      step "login" {
        post  = "${var.base}/loginAction"
        query = { username = random_int(1, 99), password = "password" }
      }
      step "category 1" {
        get     = "${var.base}/category"
        query   = { page = random_int(1, 5), category = random_int(2, 6) }
        capture = { product = random_int(7, 506) }
      }
      step "product 1" {
        get   = "${var.base}/product"
        query = { id = captured.product }
      }
      step "add to cart 1" {
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = captured.product }
      }
      step "category 2" {
        get     = "${var.base}/category"
        query   = { page = random_int(1, 5), category = random_int(2, 6) }
        capture = { product = random_int(7, 506) }
      }
      step "product 2" {
        get   = "${var.base}/product"
        query = { id = captured.product }
      }
      step "add to cart 2" {
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = captured.product }
      }
      step "profile" {
        get = "${var.base}/profile"
      }
      step "logout" {
        post  = "${var.base}/loginAction"
        query = { logout = "" }
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
