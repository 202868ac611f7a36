user "browser" {
weight = 3
wait = between("100ms","300ms")
task "home" {
weight=4
get="/"
}
task "product" {
  weight = 6
  get = "/products/${random_int(1, 500)}"
     name = "/products/:id"
}
}

user "buyer" {
  weight = 1
  sequence "checkout" {
    step "add_to_cart" {
      post = "/cart"
      json = { product_id = random_int(1, 500), qty = 1 }
      capture = {
        cart_id = response.json.cart_id
          total = response.json.total
      }
    }
    step "checkout" {
      post = "/checkout"
      json = {cart_id=captured.cart_id}
      expect {
        status = 200
        json = ["order_id"]
      }
    }
  }
}
