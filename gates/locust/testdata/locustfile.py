# The shop workload of plans/shop.workload.hcl, written for Locust: 75%
# browsers, 25% buyers running the checkout funnel. Request names match
# lab's ("GET /products/:id"), so the same budgets judge both.
import random

from locust import HttpUser, between, constant, task


class Browser(HttpUser):
    weight = 3
    wait_time = between(0.1, 0.3)

    @task(4)
    def home(self):
        self.client.get("/", name="/")

    @task(6)
    def product(self):
        self.client.get(f"/products/{random.randint(1, 500)}", name="/products/:id")


class Buyer(HttpUser):
    weight = 1
    wait_time = constant(0.2)

    @task
    def checkout(self):
        with self.client.get(f"/products?page={random.randint(1, 20)}", name="/products", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return
        with self.client.post("/cart", json={"product_id": random.randint(1, 500), "qty": 1},
                              name="/cart", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return
            cart = r.json().get("cart_id")
        # A 200 without an order id is a wrong answer: a failure, as in lab's expect block.
        with self.client.post("/checkout", json={"cart_id": cart}, name="/checkout", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif "order_id" not in r.json():
                r.failure("no order_id in the response")
