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
  host      = var.host
  cookies   = "user" # the Locust session keeps cookies for the user's life
  redirects = 20     # requests follows redirects (30 at most; 20 is lab's most)

  user "behavior" {
    wait = between("2s", "10s")

    task "login" {
      post    = "/api/user/login"
      json    = { name = "user", password = "password" }
      headers = { "x-forwarded-for" = random_choice(var.fake_ips) }
    }

    sequence "load" {
      # Locust goes on after a failed request, unless reading its answer
      # raises (below).
      on_failure = "continue"
      # When a request whose JSON the script reads fails (unique id,
      # products, cart, codes, cities, calc, confirm), .json() or the field
      # it reads raises and ends Locust's task. A failed lab step captures
      # nothing, and every later step is sent only when it can read the
      # capture of the last such request before it: nothing more is sent.
      pass {
        ip = random_choice(var.fake_ips) # one fake address for the whole pass
      }
      step "home" {
        get     = "/"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "unique id" {
        get     = "/api/user/uniqueid"
        headers = { "x-forwarded-for" = pass.ip }
        capture = { uid = response.json.uuid }
      }
      step "categories" {
        when    = can(captured.uid)
        get     = "/api/catalogue/categories"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "products" {
        when    = can(captured.uid)
        get     = "/api/catalogue/products"
        headers = { "x-forwarded-for" = pass.ip }
        # The script draws an item again until one is in stock: the same
        # odds as one draw among the items in stock. (With none in stock
        # the script would draw forever; Robot Shop's catalogue has items
        # in stock, and none is ever taken out of stock by an order.)
        capture = {
          sku1 = random_choice([for p in response.json : p.sku if p.instock != 0])
          sku2 = random_choice([for p in response.json : p.sku if p.instock != 0])
        }
      }
      step "rate 1" {
        when    = can(captured.sku1) && random_int(1, 10) <= 3 # vote for the item in 3 rounds of 10
        put     = "/api/ratings/api/rate/${captured.sku1}/${random_int(1, 5)}"
        name    = "/api/ratings/api/rate/:sku/:score"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "product 1" {
        when    = can(captured.sku1)
        get     = "/api/catalogue/product/${captured.sku1}"
        name    = "/api/catalogue/product/:sku"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "ratings 1" {
        when    = can(captured.sku1)
        get     = "/api/ratings/api/fetch/${captured.sku1}"
        name    = "/api/ratings/api/fetch/:sku"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "add 1" {
        when    = can(captured.sku1)
        get     = "/api/cart/add/${captured.uid}/${captured.sku1}/1"
        name    = "/api/cart/add/:uid/:sku/1"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "rate 2" {
        when    = can(captured.sku2) && random_int(1, 10) <= 3
        put     = "/api/ratings/api/rate/${captured.sku2}/${random_int(1, 5)}"
        name    = "/api/ratings/api/rate/:sku/:score"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "product 2" {
        when    = can(captured.sku2)
        get     = "/api/catalogue/product/${captured.sku2}"
        name    = "/api/catalogue/product/:sku"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "ratings 2" {
        when    = can(captured.sku2)
        get     = "/api/ratings/api/fetch/${captured.sku2}"
        name    = "/api/ratings/api/fetch/:sku"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "add 2" {
        when    = can(captured.sku2)
        get     = "/api/cart/add/${captured.uid}/${captured.sku2}/1"
        name    = "/api/cart/add/:uid/:sku/1"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "cart" {
        when    = can(captured.sku2)
        get     = "/api/cart/cart/${captured.uid}"
        name    = "/api/cart/cart/:uid"
        headers = { "x-forwarded-for" = pass.ip }
        capture = { item = random_choice(response.json.items).sku }
      }
      step "update" {
        when    = can(captured.item)
        get     = "/api/cart/update/${captured.uid}/${captured.item}/2"
        name    = "/api/cart/update/:uid/:sku/2"
        headers = { "x-forwarded-for" = pass.ip }
      }
      step "codes" {
        when    = can(captured.item)
        get     = "/api/shipping/codes"
        headers = { "x-forwarded-for" = pass.ip }
        capture = { code = random_choice(response.json) }
      }
      step "cities" {
        when    = can(captured.code)
        get     = "/api/shipping/cities/${captured.code.code}"
        name    = "/api/shipping/cities/:code"
        headers = { "x-forwarded-for" = pass.ip }
        capture = { city = random_choice(response.json) }
      }
      step "calc" {
        when    = can(captured.city)
        get     = "/api/shipping/calc/${captured.city.uuid}"
        name    = "/api/shipping/calc/:uuid"
        headers = { "x-forwarded-for" = pass.ip }
        capture = { shipping = merge(response.json, { location = "${captured.code.name} ${captured.city.name}" }) }
      }
      step "confirm" {
        when    = can(captured.shipping)
        post    = "/api/shipping/confirm/${captured.uid}"
        name    = "/api/shipping/confirm/:uid"
        json    = captured.shipping
        headers = { "x-forwarded-for" = pass.ip }
        capture = { cart = response.json }
      }
      step "pay" {
        when    = can(captured.cart)
        post    = "/api/payment/pay/${captured.uid}"
        name    = "/api/payment/pay/:uid"
        json    = captured.cart
        headers = { "x-forwarded-for" = pass.ip }
      }
    }

    task "error" {
      # Picked in a third of the passes, as in the script; it sends the
      # request only with ERROR=1 (var.error), else the pass sends nothing.
      when    = var.error
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
