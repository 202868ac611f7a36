# A minimal Django site that lab's end-to-end tests log in to: real
# sessions, real CSRF checks, and a request log written by Django itself.
