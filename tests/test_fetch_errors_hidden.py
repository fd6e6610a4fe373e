"""A source the server may not fetch because its host name resolves to an address the operator did not allow
(frames/storage/netguard.py) is reported without the addresses to users who are not staff (issue 16): the
frames API's preview_error, the frame page, the Frames tab's tiles and the source link say "the host is not allowed"; staff see which
address the name resolved to. The refusal is made for real: `localhost` resolves to loopback, which the
address guard refuses when HYPERDATA_ALLOWED_FETCH_NETWORKS is empty."""
from __future__ import annotations

import pytest
from django.test import Client

from frames import links, services
from frames.models import MediaPreview

from .pages import html

SOURCE = "http://localhost:9/cam/0001.jpg"
HIDDEN = "refused to connect to localhost: the host is not allowed (HYPERDATA_ALLOWED_FETCH_NETWORKS)"
DETAIL = "refused to connect to localhost: it resolves to 127.0.0.1 (loopback)"


@pytest.fixture
def refused_source(django_user_model, admin_user, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # the preview is made below, in this process
    settings.HYPERDATA_ALLOWED_FETCH_NETWORKS = []
    carol = django_user_model.objects.create_user("carol", password="pw-carol-12345")
    version = services.dataset_create(user=carol, name="intranet-cams").versions.get()
    services.frames_add(user=carol, version=version, frames=[{"id": "f1", "sources": [{"uri": SOURCE}]}])
    keys = list(MediaPreview.objects.filter(uri=SOURCE).values_list("key", flat=True))
    services.render_previews(uri=SOURCE, keys=keys, give_up=True)
    assert DETAIL in MediaPreview.objects.get(key=keys[0]).error  # recorded whole, for the staff
    return {"owner": carol, "staff": admin_user, "version": version}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def answers(client, version) -> dict[str, str]:
    """What the user is told about the source: the API's preview_error, the frame page, the source link."""
    frames = client.get(f"/api/versions/{version.pk}/frames/").json()["results"]
    source_link = client.get(links.source_url(version.dataset_id, SOURCE))
    assert source_link.status_code == 400
    return {
        "api": frames[0]["sources"][0]["preview_error"],
        "frame page": client.get(f"/versions/{version.pk}/frame/f1").content.decode(),
        "frames tab": html(client.get(f"/versions/{version.pk}/")),  # streamed: the tile says why it has no preview
        "source link": source_link.content.decode(),
    }


@pytest.mark.django_db
def test_a_user_who_is_not_staff_is_not_told_the_address(refused_source):
    for where, text in answers(client_for(refused_source["owner"]), refused_source["version"]).items():
        assert HIDDEN in text, where
        assert "127.0.0.1" not in text and "it resolves to" not in text, where


@pytest.mark.django_db
def test_staff_see_the_address_the_host_name_resolved_to(refused_source):
    for where, text in answers(client_for(refused_source["staff"]), refused_source["version"]).items():
        assert DETAIL in text, where
