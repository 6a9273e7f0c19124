"""Test settings: the real settings, with fast hashing and tasks run in-process."""

from xinyue.settings import *  # noqa: F403
from xinyue.settings import HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
# The tests drive the sandbox provider (off by default, see test_sandbox_security).
CREDIT_SANDBOX_ENABLED = True
# Rate limits off: tests that exercise them set their own.
XINYUE_API_RATE_ANONYMOUS = ""
XINYUE_API_RATE_AUTHENTICATED = ""
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
