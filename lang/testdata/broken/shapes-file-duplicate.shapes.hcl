shape "steady" {
  stage {
    until = "1m"
    users = 10
  }
}
