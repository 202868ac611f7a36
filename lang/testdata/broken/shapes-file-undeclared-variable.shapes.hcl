# The plan that reads this file declares users, not user.
shape "steady" {
  stage {
    until = "1m"
    users = coalesce(var.user, 10) # ERROR
  }
}
