user "reader" {
  task "home" {
    get = "/"
  }
}
