# Merino, Firefox Suggest's backend (mozilla-services/merino-py), its Locust
# file (tests/load/locustfiles/locustfile.py) written as a lab plan. See
# SOURCE.txt for the origin.

variable "host" {
  default = "http://127.0.0.1:8000"
}

variable "users" {
  default = 25
}

variable "duration" {
  default = "10m"
}

# APPROX: at test start the Locust master downloads the query data from
# other systems (AdM keywords from MARS, Wikipedia titles from
# Elasticsearch, the Top Picks file, IP ranges from gzipped CSV files) and
# sends it to the workers. lab has no step before the run and reads one
# host: the plan takes the queries as variables, with a few samples.
variable "adm_queries" {
  default = ["amazon", "ebay", "wayfair", "home depot", "walmart"]
}

variable "top_picks_queries" {
  default = ["wikip", "youtu", "faceb", "reddi", "netfl"]
}

variable "wikipedia_queries" {
  default = ["mozilla firefox", "alan turing", "pacific ocean", "jazz", "photosynthesis"]
}

variable "lorem" {
  default = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "tempor"]
}

variable "user_agents" { # client_info.DESKTOP_FIREFOX
  default = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:10.0) Gecko/20100101 Firefox/90.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:10.0) Gecko/20100101 Firefox/91.0",
    "Mozilla/5.0 (Windows NT 10.0; rv:10.0) Gecko/20100101 Firefox/91.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:90.0) Gecko/20100101 Firefox/91.0",
  ]
}

variable "locales" { # curated_recommendations.protocol.Locale
  default = ["fr", "fr-BE", "fr-FR", "es", "es-ES", "it", "it-IT", "en", "en-CA", "en-GB", "en-IE", "en-US", "de", "de-DE", "de-AT", "de-CH", "pl", "pl-PL"]
}

variable "topics" { # corpus_backends.protocol.Topic
  default = ["business", "career", "arts", "food", "health", "home", "finance", "government", "sports", "tech", "travel", "education", "hobbies", "society-parenting", "education-science", "society"]
}

# APPROX: a status of 0 (a connection error or a timeout) is marked a
# success by the script; lab counts it as an error.
#
# APPROX: the answers are checked against Merino's pydantic models; the
# plan checks the top-level fields only.
#
# APPROX: several tasks send one request per element of a list, or per
# prefix of a query, as a user types it (a loop whose count depends on
# the value drawn). The plan sends one request per pass, for one element
# or one prefix of random length.

workload "merino" {
  host = var.host

  user "MerinoUser" {
    # no wait_time: Locust runs the next task at once

    # APPROX: when /__version__ fails the script stops the user for good
    # (StopUser); a failed lab start is tried again after the wait.
    start {
      step "version" {
        get     = "/__version__"
        headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["version", "commit"]
        }
      }
    }

    task "adm_suggestions" {
      weight  = 2
      get     = "/api/v1/suggest"
      name    = "/api/v1/suggest?providers=adm"
      query   = { q = random_choice(var.adm_queries), providers = "adm" }
      headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["suggestions"]
      }
    }

    # amo_suggestions has weight 0 in the script: never picked, left out.

    task "dynamic_wikipedia_suggestions" {
      weight  = 2
      get     = "/api/v1/suggest"
      name    = "/api/v1/suggest?providers=wikipedia"
      query   = { q = substr(random_choice(var.wikipedia_queries), 0, random_int(2, 16)), providers = "wikipedia" }
      headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["suggestions"]
      }
    }

    task "faker_suggestions" {
      weight  = 2
      get     = "/api/v1/suggest"
      query   = { q = substr(join(" ", [random_choice(var.lorem), random_choice(var.lorem), random_choice(var.lorem)]), 0, random_int(1, 30)) }
      headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["suggestions"]
      }
    }

    task "top_picks_suggestions" {
      weight  = 2
      get     = "/api/v1/suggest"
      name    = "/api/v1/suggest?providers=top_picks"
      query   = { q = random_choice(var.top_picks_queries), providers = "top_picks" }
      headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["suggestions"]
      }
    }

    task "manifest" {
      weight  = 2
      get     = "/api/v1/manifest"
      headers = { "Accept-Language" = "en-US", "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["domains"]
      }
    }

    task "weather_suggestions" {
      weight = 640
      get    = "/api/v1/suggest"
      name   = "/api/v1/suggest?providers=accuweather"
      query  = { q = "", providers = "accuweather" }
      headers = {
        "Accept-Language" = "en-US"
        "User-Agent"      = random_choice(var.user_agents)
        # APPROX: the script draws an address inside a random range of the
        # IP2Location US and Canada lists; the plan draws one in a few
        # North American /8 blocks.
        "X-Forwarded-For" = format("%d.%d.%d.%d", random_choice([24, 50, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 104, 107, 108]), random_int(0, 255), random_int(0, 255), random_int(1, 254))
      }
      expect {
        status = 200
        json   = ["suggestions"]
      }
    }

    # APPROX: the script posts the whole request model (model_dump(): every
    # field with its default); the plan posts the fields the script sets.
    task "curated_recommendations_locale" {
      weight  = 298
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=locale"
      json    = { locale = random_choice(var.locales) }
      headers = { "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["recommendedAt", "surfaceId", "data"]
      }
    }

    # curated_recommendations_random_topics (weight 52) draws 1 to 4
    # topics: four tasks of weight 13, one per count.
    # APPROX: random.sample draws distinct topics; random_choice may draw
    # the same topic twice.
    task "curated_recommendations_1_topic" {
      weight  = 13
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=topics"
      json    = { locale = random_choice(var.locales), topics = [random_choice(var.topics)] }
      headers = { "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["recommendedAt", "surfaceId", "data"]
      }
    }

    task "curated_recommendations_2_topics" {
      weight  = 13
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=topics"
      json    = { locale = random_choice(var.locales), topics = [random_choice(var.topics), random_choice(var.topics)] }
      headers = { "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["recommendedAt", "surfaceId", "data"]
      }
    }

    task "curated_recommendations_3_topics" {
      weight  = 13
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=topics"
      json    = { locale = random_choice(var.locales), topics = [random_choice(var.topics), random_choice(var.topics), random_choice(var.topics)] }
      headers = { "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["recommendedAt", "surfaceId", "data"]
      }
    }

    task "curated_recommendations_4_topics" {
      weight  = 13
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=topics"
      json    = { locale = random_choice(var.locales), topics = [random_choice(var.topics), random_choice(var.topics), random_choice(var.topics), random_choice(var.topics)] }
      headers = { "User-Agent" = random_choice(var.user_agents) }
      expect {
        status = 200
        json   = ["recommendedAt", "surfaceId", "data"]
      }
    }
  }
}

shape "steady" {
  stage {
    until      = var.duration
    users      = var.users
    spawn_rate = 5
  }
}
