from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _wal(sender, connection, **kwargs):
    # WAL lets requests read while another writes a session: the threaded
    # server under a load test would otherwise serialize on SQLite's lock.
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("PRAGMA journal_mode=WAL")


class LabsiteConfig(AppConfig):
    name = "labsite"

    def ready(self):
        connection_created.connect(_wal)
