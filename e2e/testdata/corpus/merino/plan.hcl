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
# sends it to the workers, through Merino's own backend clients (the AdM
# library, Elasticsearch with an API key) and files. A lab setup step may
# go to another host, but it reads a JSON or text answer, not gzipped
# CSV, and the corpus keeps none of the files: the plan takes the queries
# as variables, with a few samples (each AdM and Top Picks entry is a list
# of queries, as the script's).
variable "adm_queries" {
  type    = list(list(string))
  default = [["amazon", "amazon prime"], ["ebay"], ["wayfair", "wayfair furniture"], ["home depot"], ["walmart", "walmart grocery"]]
}

variable "top_picks_queries" {
  type    = list(list(string))
  default = [["wikip", "wikipe", "wikipedia"], ["youtu", "youtube"], ["faceb", "facebook"], ["reddi", "reddit"], ["netfl", "netflix"]]
}

variable "wikipedia_queries" {
  default = ["mozilla firefox", "alan turing", "pacific ocean", "jazz", "photosynthesis"]
}

variable "user_agents" { # client_info.DESKTOP_FIREFOX
  default = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:10.0) Gecko/20100101 Firefox/90.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:10.0) Gecko/20100101 Firefox/91.0",
    "Mozilla/5.0 (Windows NT 10.0; rv:10.0) Gecko/20100101 Firefox/91.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:90.0) Gecko/20100101 Firefox/91.0",
  ]
}

variable "accept_languages" { # client_info.LOCALES (a sample)
  default = ["en-US", "en-CA", "fr-CA", "en-GB", "de-DE"]
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

workload "merino" {
  host      = var.host
  redirects = 20 # requests follows redirects (30 at most; 20 is lab's most)

  user "MerinoUser" {
    # no wait_time: Locust runs the next task at once

    # APPROX: when /__version__ fails the script stops the user for good
    # (StopUser); a failed lab start is tried again, at once (no wait).
    start {
      step "version" {
        get     = "/__version__"
        headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["version", "commit"]
        }
      }
    }

    sequence "adm_suggestions" {
      weight     = 2
      on_failure = "continue" # the loop goes on after a failed request
      pass {
        queries = random_choice(var.adm_queries)
      }
      step "suggest" {
        repeat  = length(pass.queries) # for query in queries
        get     = "/api/v1/suggest"
        name    = "/api/v1/suggest?providers=adm"
        query   = { q = pass.queries[repeat.index], providers = "adm" }
        headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["suggestions"]
        }
      }
    }

    # amo_suggestions has weight 0 in the script: never picked, left out.

    sequence "dynamic_wikipedia_suggestions" {
      weight     = 2
      on_failure = "continue" # the loop goes on after a failed request
      pass {
        full_query = random_choice(var.wikipedia_queries)
      }
      step "suggest" {
        repeat  = strlen(pass.full_query) - 1 # full_query[:x] for x in range(2, len + 1)
        get     = "/api/v1/suggest"
        name    = "/api/v1/suggest?providers=wikipedia"
        query   = { q = substr(pass.full_query, 0, repeat.index + 2), providers = "wikipedia" }
        headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["suggestions"]
        }
      }
    }

    sequence "faker_suggestions" {
      weight     = 2
      on_failure = "continue" # the loop goes on after a failed request
      pass {
        words      = random_int(2, 4)
        full_query = join(" ", [for i in range(pass.words) : fake("word")])
        # every prefix of the query, but those that end with a space
        prefixes = [for i in range(1, strlen(pass.full_query) + 1) : substr(pass.full_query, 0, i) if substr(pass.full_query, i - 1, 1) != " "]
      }
      step "suggest" {
        repeat  = length(pass.prefixes)
        get     = "/api/v1/suggest"
        query   = { q = pass.prefixes[repeat.index] }
        headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["suggestions"]
        }
      }
    }

    sequence "top_picks_suggestions" {
      weight     = 2
      on_failure = "continue" # the loop goes on after a failed request
      pass {
        queries = random_choice(var.top_picks_queries)
      }
      step "suggest" {
        repeat  = length(pass.queries)
        get     = "/api/v1/suggest"
        name    = "/api/v1/suggest?providers=top_picks"
        query   = { q = pass.queries[repeat.index], providers = "top_picks" }
        headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
        expect {
          status = 200
          json   = ["suggestions"]
        }
      }
    }

    task "manifest" {
      weight  = 2
      get     = "/api/v1/manifest"
      headers = { "Accept-Language" = random_choice(var.accept_languages), "User-Agent" = random_choice(var.user_agents) }
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
        "Accept-Language" = random_choice(var.accept_languages)
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

    task "curated_recommendations_random_topics" {
      weight = 52
      pass {
        # random.sample(list(Topic), randint(1, 4)): 1 to 4 distinct topics
        count = random_int(1, 4)
        t1    = random_choice(var.topics)
        t2    = random_choice([for t in var.topics : t if t != pass.t1])
        t3    = random_choice([for t in var.topics : t if !contains([pass.t1, pass.t2], t)])
        t4    = random_choice([for t in var.topics : t if !contains([pass.t1, pass.t2, pass.t3], t)])
      }
      post    = "/api/v1/curated-recommendations"
      name    = "/api/v1/curated-recommendations?query_param=topics"
      json    = { locale = random_choice(var.locales), topics = [for i, t in [pass.t1, pass.t2, pass.t3, pass.t4] : t if i < pass.count] }
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
