# Stan's Robot Shop (instana/robot-shop), its Locust load generator
# (load-gen/robot-shop.py) written as a lab plan. See SOURCE.txt.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "users" {
  default = 10
}

variable "duration" {
  default = "5m"
}

# ERROR=1 turns on the task that pays for a partner's cart with a total of 0.
variable "error" {
  default = false
}

variable "fake_ips" {
  default = ["156.33.241.5", "34.196.93.245", "98.142.103.241", "192.241.230.151", "46.114.35.116", "52.77.99.130", "60.242.161.215"]
}

workload "robot-shop" {
  host    = var.host
  cookies = "user" # the Locust session keeps cookies for the user's life

  user "behavior" {
    wait = between("2s", "10s")

    task "login" {
      post    = "/api/user/login"
      json    = { name = "user", password = "password" }
      headers = { "x-forwarded-for" = random_choice(var.fake_ips) }
    }

    sequence "load" {
      # APPROX: Locust goes on after a failed request unless reading its
      # JSON fails; a lab sequence ends the pass at the first failed step.
      #
      # APPROX: the two rounds each vote on the item in 3 passes of 10
      # (randint(1, 10) <= 3): a request sent or not at random. The plan
      # votes in every round, so it sends the rating request too often.
      #
      # APPROX: the script keeps drawing an item until one is in stock; the
      # plan draws once among the items in stock, which has the same odds.
      step "home" {
        get = "/"
        # APPROX: the script draws one fake address for the whole pass; the
        # plan can keep a drawn value only from a step's capture, so the
        # home page gets a draw of its own and the later steps share one.
        headers = { "x-forwarded-for" = random_choice(var.fake_ips) }
        capture = { ip = random_choice(var.fake_ips) }
      }
      step "unique id" {
        get     = "/api/user/uniqueid"
        headers = { "x-forwarded-for" = captured.ip }
        capture = { uid = response.json.uuid }
      }
      step "categories" {
        get     = "/api/catalogue/categories"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "products" {
        get     = "/api/catalogue/products"
        headers = { "x-forwarded-for" = captured.ip }
        capture = {
          sku1 = random_choice([for p in response.json : p.sku if p.instock != 0])
          sku2 = random_choice([for p in response.json : p.sku if p.instock != 0])
        }
      }
      step "rate 1" {
        put     = "/api/ratings/api/rate/${captured.sku1}/${random_int(1, 5)}"
        name    = "/api/ratings/api/rate/:sku/:score"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "product 1" {
        get     = "/api/catalogue/product/${captured.sku1}"
        name    = "/api/catalogue/product/:sku"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "ratings 1" {
        get     = "/api/ratings/api/fetch/${captured.sku1}"
        name    = "/api/ratings/api/fetch/:sku"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "add 1" {
        get     = "/api/cart/add/${captured.uid}/${captured.sku1}/1"
        name    = "/api/cart/add/:uid/:sku/1"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "rate 2" {
        put     = "/api/ratings/api/rate/${captured.sku2}/${random_int(1, 5)}"
        name    = "/api/ratings/api/rate/:sku/:score"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "product 2" {
        get     = "/api/catalogue/product/${captured.sku2}"
        name    = "/api/catalogue/product/:sku"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "ratings 2" {
        get     = "/api/ratings/api/fetch/${captured.sku2}"
        name    = "/api/ratings/api/fetch/:sku"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "add 2" {
        get     = "/api/cart/add/${captured.uid}/${captured.sku2}/1"
        name    = "/api/cart/add/:uid/:sku/1"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "cart" {
        get     = "/api/cart/cart/${captured.uid}"
        name    = "/api/cart/cart/:uid"
        headers = { "x-forwarded-for" = captured.ip }
        capture = { item = random_choice(response.json.items).sku }
      }
      step "update" {
        get     = "/api/cart/update/${captured.uid}/${captured.item}/2"
        name    = "/api/cart/update/:uid/:sku/2"
        headers = { "x-forwarded-for" = captured.ip }
      }
      step "codes" {
        get     = "/api/shipping/codes"
        headers = { "x-forwarded-for" = captured.ip }
        capture = { code = random_choice(response.json) }
      }
      step "cities" {
        get     = "/api/shipping/cities/${captured.code.code}"
        name    = "/api/shipping/cities/:code"
        headers = { "x-forwarded-for" = captured.ip }
        capture = { city = random_choice(response.json) }
      }
      step "calc" {
        get     = "/api/shipping/calc/${captured.city.uuid}"
        name    = "/api/shipping/calc/:uuid"
        headers = { "x-forwarded-for" = captured.ip }
        capture = { shipping = merge(response.json, { location = "${captured.code.name} ${captured.city.name}" }) }
      }
      step "confirm" {
        post    = "/api/shipping/confirm/${captured.uid}"
        name    = "/api/shipping/confirm/:uid"
        json    = captured.shipping
        headers = { "x-forwarded-for" = captured.ip }
        capture = { cart = response.json }
      }
      step "pay" {
        post    = "/api/payment/pay/${captured.uid}"
        name    = "/api/payment/pay/:uid"
        json    = captured.cart
        headers = { "x-forwarded-for" = captured.ip }
      }
    }

    task "error" {
      # APPROX: with ERROR unset the script still picks this task in a
      # third of the passes and sends nothing; the plan gives it weight 0.
      weight  = var.error ? 1 : 0
      post    = "/api/payment/pay/partner-57"
      json    = { total = 0, tax = 0 }
      headers = { "x-forwarded-for" = random_choice(var.fake_ips) }
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
