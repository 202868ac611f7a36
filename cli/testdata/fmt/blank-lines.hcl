

variable "rate" {

  default = "50/s"


  description = "arrivals per second"
}



shape "steady" {
  stage {
    until = "1m"

    rate  = var.rate
  }
}


