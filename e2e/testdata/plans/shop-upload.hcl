# Uploads a file and a field as multipart/form-data, and an XML document
# with the Content-Type the plan writes; the shop answers what it got (its
# own sha256 of each file, the type it was sent), which the expectations
# compare with what the plan sent.

variable "host" {
  default = "http://127.0.0.1:8080"
}

variable "duration" {
  default = "3s"
}

locals {
  report = file("upload.csv")
}

workload "shop" {
  host = var.host

  user "uploader" {
    wait = constant("50ms")

    task "upload" {
      post = "/upload"
      multipart = {
        title  = "report ${user.id}"
        report = file_part("report.csv", local.report, "text/csv")
      }
      expect {
        status = 200
        that = [
          response.json.files[0].field == "report",
          response.json.files[0].filename == "report.csv",
          response.json.files[0].sha256 == sha256(local.report),
          response.json.fields.title == "report ${user.id}",
        ]
      }
    }

    task "xml" {
      post    = "/echo"
      headers = { "Content-Type" = "application/xml" }
      body    = "<order id=\"${user.id}\"/>"
      expect {
        json = { content_type = "application/xml" }
      }
    }
  }
}

shape "steady" {
  stage {
    until = var.duration
    users = 2
  }
}

sla "all" {
  error_rate = "0%"
}
