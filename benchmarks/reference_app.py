"""The scale reference of DESIGN §9: "a trivial django-ninja endpoint under gunicorn with 3 sync
workers", as a WSGI application of its own. ``xinyue bench http`` serves it and drives it with
the same ``wrk`` in the same run, so a reader of the figures sees what this machine gives the
bare stack (the §9 figure, ~6,600/s, was taken on another 2-core machine).

No middleware, no database, no templates: Django's request handling, one URL, one ninja
operation returning a small JSON object — the same work as our ``GET /api/v1/ping`` minus
everything the platform adds.
"""

from __future__ import annotations

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="reference-app-of-the-http-bench-not-a-secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    USE_TZ=True,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI  # noqa: E402

api = NinjaAPI(docs_url=None, openapi_url=None)


@api.get("/ping")
def ping(request):
    return {"ok": True}


urlpatterns = [path("api/", api.urls)]
application = get_wsgi_application()
