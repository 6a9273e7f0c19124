"""WSGI entry point for gunicorn (``xinyue.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyue.settings")
application = get_wsgi_application()
