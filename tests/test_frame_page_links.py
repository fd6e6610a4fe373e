"""The frame page's links: previous/next under the `changed` filter lead to a deleted frame's page in the parent
version (not to a 404 in this one), and a frame id holding slashes (a file path) opens, with its API link."""
from __future__ import annotations

import json
import re

from django.urls import reverse

from frames import services
from frames.selectors import SYSTEM

from .clients import api_client
from .test_changed import build


def nav_link(html: str, which: str) -> str:
    return re.search(rf'href="([^"]+)" data-nav="{which}"', html).group(1).replace("&amp;", "&")


def test_next_under_the_changed_filter_opens_a_deleted_frame_in_the_parent(admin_client, db):
    versions = build()
    root, child = versions["root"], versions["child"]
    page = admin_client.get(reverse("viewer:frame", args=[child.pk, "fr-01"]) + "?changed=any&sort=id")
    assert page.status_code == 200
    following = nav_link(page.content.decode(), "next")  # fr-02: deleted in the child, listed as the root's
    assert following.startswith(reverse("viewer:frame", args=[root.pk, "fr-02"]) + "?")
    assert "changed=" not in following and "sort=id" in following
    opened = admin_client.get(following)
    assert opened.status_code == 200 and b"fr-02" in opened.content


def test_a_frame_id_with_slashes_opens_with_its_api_link(admin_client, admin_user, db):
    version = services.dataset_create(user=SYSTEM, name="paths").versions.get()
    frame_id = "drive/2026/cam-1/000001.jpg"
    source = {"uri": "https://example.com/000001.jpg", "width": 64, "height": 48}
    services.frames_add(user=SYSTEM, version=version, frames=[{"id": frame_id, "sources": [source]}])
    page = admin_client.get(reverse("viewer:frame", args=[version.pk, frame_id]))
    assert page.status_code == 200
    contract = json.loads(re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', page.content.decode(), re.S).group(1))
    assert contract["frame"]["id"] == frame_id
    answer = api_client(admin_user).get(contract["api_url"])
    assert answer.status_code == 200 and answer.json()["id"] == frame_id
