# Locust's fastest user against the benchmark target: no wait, GET /.
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Client(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
