"""WSGI entry point for the web server (Granian, see ``xinyue serve``) (``xinyue.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyue.settings")
application = get_wsgi_application()
