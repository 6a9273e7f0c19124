"""URLconf of ``xinyue sandbox-gateway``: only the sandbox, at the same paths as when embedded."""

from django.urls import include, path

urlpatterns = [path("sandbox/zhima/", include("xinyue.credit.sandbox.urls"))]
