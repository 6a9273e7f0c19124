"""WSGI entry point for the web server (``xinyue.wsgi:application``, run by ``xinyue serve``)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyue.settings")
application = get_wsgi_application()
# Import every URLconf (and with it the API and its routers) now, while the worker starts, so
# that its first request does not pay for it.
_ = get_resolver().url_patterns
