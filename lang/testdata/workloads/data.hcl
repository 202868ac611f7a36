# Test data and values drawn once per pass: per-user rows from a CSV file,
# a Basic credential made from a sensitive variable, and one random
# product that the view and the add-to-cart of a pass share.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "password" {
  default   = "hunter2"
  sensitive = true
}

locals {
  accounts = csvdecode(file("accounts.csv"))
  basic    = "Basic ${base64encode("admin:${var.password}")}"
  digest   = sha256(local.first)
  first    = local.accounts[0].username
}

workload "w" {
  host    = var.host
  cookies = "user"

  user "member" {
    start {
      step "login" {
        post = "/login"
        form = {
          username = element(local.accounts, user.id).username
          password = element(local.accounts, user.id).password
        }
      }
    }

    sequence "buy" {
      pass {
        product = random_int(1, 500)
        qty     = random_choice([1, 2, 3])
        label   = "p${pass.product}x${pass.qty}"
      }

      step "view" {
        get  = "/products/${pass.product}"
        name = "/products/:id"
      }

      step "add" {
        post    = "/cart"
        headers = { Authorization = local.basic, "X-Digest" = local.digest }
        json    = { product_id = pass.product, qty = pass.qty, label = pass.label }
      }
    }
  }
}

shape "s" {
  stage {
    until = "1m"
    users = 3
  }
}
