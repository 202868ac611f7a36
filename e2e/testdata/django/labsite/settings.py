"""Settings of the e2e fixture; the test passes the paths in the environment
so that each run has its own database and request log in a temp folder."""
import os
import sys
from pathlib import Path


def _env(name):
    try:
        return os.environ[name]
    except KeyError:
        sys.exit(f"labsite: set {name} (e2e/django_test.go does)")


BASE_DIR = Path(__file__).resolve().parent

# Fixed: a test fixture, never deployed.
SECRET_KEY = "lab-e2e-fixture-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
# Off, as on a real site: no debug pages, and ALLOWED_HOSTS is enforced.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "labsite",  # its templates and the mkusers command
]

MIDDLEWARE = [
    # Outermost, so it logs the final status, CSRF rejections included.
    "labsite.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "labsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _env("LAB_DJANGO_DB"),
        # Many virtual users write sessions at once: wait for SQLite's
        # write lock instead of failing with "database is locked".
        "OPTIONS": {"timeout": 30},
    }
}

# The fastest hasher Django ships: every login hashes the password, and a
# load test logs in many users; PBKDF2 would make the server, not the
# login flow, the thing measured. Fine for a fixture; never for a real site.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/whoami/"
# Redirect after logout rather than render a template this site lacks.
LOGOUT_REDIRECT_URL = "/accounts/login/"

USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The request log (labsite/requestlog.py): the server's own account of
# who logged in and which session each request carried.
LAB_REQUEST_LOG = _env("LAB_DJANGO_REQUEST_LOG")

# With DEBUG off Django would mail a 500's traceback to nobody; print it,
# so a failing test shows it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
