# Two routes of the bundled shop, enough for a plan to load.

user "browser" {
  wait = constant("1s")

  task "home" {
    get = "/"
  }

  task "product" {
    get  = "/products/${random_int(1, 50)}"
    name = "/products/:id"
  }
}
