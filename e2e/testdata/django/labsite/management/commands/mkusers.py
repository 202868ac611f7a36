"""mkusers N: users user1..userN, password secret-pw, in one bulk insert;
--migrate first creates the tables, saving a second Django start-up."""
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create users user1..userN with password secret-pw."

    def add_arguments(self, parser):
        parser.add_argument("n", type=int)
        parser.add_argument("--migrate", action="store_true", help="run migrate first")

    def handle(self, n, migrate, **options):
        if migrate:
            call_command("migrate", verbosity=0, interactive=False)
        # One hash for all: hashing per user is what makes create_user slow.
        password = make_password("secret-pw")
        User.objects.bulk_create(User(username=f"user{i}", password=password) for i in range(1, n + 1))
        self.stdout.write(f"created {n} users")
