# Idle users for the memory benchmark: one request, then a minute's wait.
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Idle(FastHttpUser):
    wait_time = constant(60)

    @task
    def get(self):
        self.client.get("/")
