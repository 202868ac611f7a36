# TeaStore (DescartesResearch/TeaStore), its example Locust file written
# as a lab plan. See SOURCE.txt for the origin.

variable "host" {
  default = "http://127.0.0.1:8080"
}

# Locust is given the web UI's URL as its host; here the UI's path is
# written before every request's path: the same requests.
variable "base" {
  default = "/tools.descartes.teastore.webui"
}

variable "users" {
  default = 10
}

variable "duration" {
  default = "5m"
}

workload "teastore" {
  host      = var.host
  cookies   = "user" # the Locust session keeps the session cookie
  redirects = 20     # requests follows the redirects of the login, cart and logout actions (30 at most; 20 is lab's most)

  user "behavior" {
    # no wait_time: Locust runs the next pass at once

    sequence "load" {
      # Locust only logs a failed request and goes on.
      on_failure = "continue"
      # In a browse round the script asks for the product only when the
      # category page answered ok (res.ok: below 400), and adds it to the
      # cart only when the product page did: each of those two pages
      # captures its status, which a failed request does not, and the next
      # request of the round is sent only when it can read it.
      pass {
        rounds     = random_int(2, 5) - 1 # for i in range(1, randint(2, 5)): 1 to 4 browse rounds
        buy        = random_choice([true, false])
        page_1     = random_int(1, 5)
        category_1 = random_int(2, 6)
        product_1  = random_int(7, 506)
        page_2     = random_int(1, 5)
        category_2 = random_int(2, 6)
        product_2  = random_int(7, 506)
        page_3     = random_int(1, 5)
        category_3 = random_int(2, 6)
        product_3  = random_int(7, 506)
        page_4     = random_int(1, 5)
        category_4 = random_int(2, 6)
        product_4  = random_int(7, 506)
      }

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
        query   = { page = pass.page_1, category = pass.category_1 }
        capture = { category_1_ok = response.status }
      }
      step "product 1" {
        when    = can(captured.category_1_ok)
        get     = "${var.base}/product"
        query   = { id = pass.product_1 }
        capture = { product_1_ok = response.status }
      }
      step "add to cart 1" {
        when  = can(captured.product_1_ok)
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = pass.product_1 }
      }
      step "category 2" {
        when    = pass.rounds >= 2
        get     = "${var.base}/category"
        query   = { page = pass.page_2, category = pass.category_2 }
        capture = { category_2_ok = response.status }
      }
      step "product 2" {
        when    = can(captured.category_2_ok)
        get     = "${var.base}/product"
        query   = { id = pass.product_2 }
        capture = { product_2_ok = response.status }
      }
      step "add to cart 2" {
        when  = can(captured.product_2_ok)
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = pass.product_2 }
      }
      step "category 3" {
        when    = pass.rounds >= 3
        get     = "${var.base}/category"
        query   = { page = pass.page_3, category = pass.category_3 }
        capture = { category_3_ok = response.status }
      }
      step "product 3" {
        when    = can(captured.category_3_ok)
        get     = "${var.base}/product"
        query   = { id = pass.product_3 }
        capture = { product_3_ok = response.status }
      }
      step "add to cart 3" {
        when  = can(captured.product_3_ok)
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = pass.product_3 }
      }
      step "category 4" {
        when    = pass.rounds >= 4
        get     = "${var.base}/category"
        query   = { page = pass.page_4, category = pass.category_4 }
        capture = { category_4_ok = response.status }
      }
      step "product 4" {
        when    = can(captured.category_4_ok)
        get     = "${var.base}/product"
        query   = { id = pass.product_4 }
        capture = { product_4_ok = response.status }
      }
      step "add to cart 4" {
        when  = can(captured.product_4_ok)
        post  = "${var.base}/cartAction"
        query = { addToCart = "", productid = pass.product_4 }
      }
      step "buy" {
        when = pass.buy # choice([True, False])
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
  }
}

shape "steady" {
  stage {
    until      = var.duration
    users      = var.users
    spawn_rate = 1
  }
}
