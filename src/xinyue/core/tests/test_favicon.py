"""Every page of the site links the favicon, served from the project's own static files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/reader/login/", "/libraries/", "/login/"])
def test_pages_link_the_favicon(client, zhejiang, path):
    html = client.get(path).content.decode()
    assert '<link rel="icon" href="/static/xinyue/favicon.svg" type="image/svg+xml">' in html


def test_the_favicon_is_a_local_svg():
    found = finders.find("xinyue/favicon.svg")
    assert found
    root = ET.parse(found).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 64 64"
    with open(found, encoding="utf-8") as handle:
        body = handle.read()
    assert "http" not in body.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
