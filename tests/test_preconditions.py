"""Write preconditions: every dataset, version and frame carries an ETag; a write with a stale one (If-Match, a
bulk frame's `saved`, an edit form's hidden etag) is refused with 412 and the current representation, and
changes nothing. Two clients writing at once lose no update."""
import threading

import pytest
import requests
from django.urls import reverse
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from frames import services
from frames.models import Dataset

from .pages import html as page_html
from .clients import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123")


@pytest.fixture
def draft(owner):
    dataset = services.dataset_create(user=owner, name="etags", tags=["a"])
    version = dataset.versions.get()
    services.frames_add(user=owner, version=version, frames=[
        {"id": name, "sources": [{"uri": f"s3://b/{name}.jpg"}], "meta": {"n": 0}} for name in ("f1", "f2")
    ])
    return version


def test_a_stale_dataset_edit_is_refused_with_the_current_dataset(owner, draft):
    tab_a, tab_b = api_client(owner), api_client(owner)
    url = f"/api/datasets/{draft.dataset_id}/"
    etag = tab_a.get(url)["ETag"]
    assert tab_b.get(url)["ETag"] == etag and tab_a.get(url).json()["etag"] == etag
    saved = tab_a.patch(url, {"name": "renamed by a"}, format="json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200 and saved["ETag"] != etag
    stale = tab_b.patch(url, {"description": "b's text"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["current"]["name"] == "renamed by a" and stale.json()["current"]["etag"] == saved["ETag"]
    assert stale.json()["errors"][0]["field"] == "If-Match"
    assert Dataset.objects.get(pk=draft.dataset_id).description == ""  # nothing of b's was written
    assert tab_b.delete(url, HTTP_IF_MATCH=etag).status_code == 412 and Dataset.objects.filter(pk=draft.dataset_id).exists()
    assert tab_b.patch(url, {"description": "b, having reloaded"}, format="json", HTTP_IF_MATCH=saved["ETag"]).status_code == 200


def test_a_stale_version_edit_is_refused(owner, draft):
    tab_a, tab_b = api_client(owner), api_client(owner)
    url = f"/api/versions/{draft.pk}/"
    etag = tab_a.get(url)["ETag"]
    assert tab_a.patch(url, {"metadata": {"by": "a"}}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    stale = tab_b.patch(url, {"metadata": {"by": "b"}}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["current"]["metadata"] == {"by": "a"}
    assert tab_b.post(f"{url}publish/", {}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert tab_a.get(url).json()["status"] == "draft"
    assert tab_b.patch(url, {"metadata": {"by": "b"}}, format="json").status_code == 200  # no If-Match: no precondition


def test_a_stale_frame_write_is_refused_with_the_current_frame(owner, draft):
    tab_a, tab_b = api_client(owner), api_client(owner)
    url = f"/api/versions/{draft.pk}/frames/f1/"
    read = tab_a.get(url)
    etag = read["ETag"]
    assert etag == f'"{read.json()["saved"]}"'
    frame_a = {**read.json(), "meta": {"n": 1, "by": "a"}}
    saved = tab_a.put(url, frame_a, format="json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200 and saved["ETag"] != etag
    stale = tab_b.patch(url, {"meta": {"by": "b"}}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and stale.json()["current"]["meta"] == {"n": 1, "by": "a"}
    assert tab_b.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    assert tab_b.put(url, frame_a, format="json", HTTP_IF_MATCH='W/"weak"').status_code == 412
    assert tab_a.get(url).json()["meta"] == {"n": 1, "by": "a"}
    assert tab_b.patch(url, {"meta": {"by": "b"}}, format="json", HTTP_IF_MATCH=saved["ETag"]).status_code == 200
    assert tab_b.put(f"/api/versions/{draft.pk}/frames/new/", {"sources": [{"uri": "s3://b/n.jpg"}]}, format="json",
                     HTTP_IF_MATCH='"1"').status_code == 412  # If-Match on a frame that does not exist


def test_a_bulk_update_with_a_stale_frame_is_refused_whole(owner, draft):
    tab_a, tab_b = api_client(owner), api_client(owner)
    frames = {f["id"]: f for f in tab_b.get(f"/api/versions/{draft.pk}/frames/").json()["results"]}
    assert tab_a.patch(f"/api/versions/{draft.pk}/frames/", [{"id": "f2", "meta": {"n": 5}}], format="json").status_code == 200
    batch = [{"id": "f1", "saved": frames["f1"]["saved"], "meta": {"n": 7}}, {"id": "f2", "saved": frames["f2"]["saved"], "meta": {"n": 7}}]
    stale = tab_b.patch(f"/api/versions/{draft.pk}/frames/", batch, format="json")
    assert stale.status_code == 412
    body = stale.json()
    assert body["stale"] == ["f2"] and [f["meta"] for f in body["current"]] == [{"n": 5}]
    assert body["errors"] == [{"field": "frames[1].saved", "message": "frame 'f2' was saved by someone else since it was read"}]
    now = {f["id"]: f["meta"] for f in tab_a.get(f"/api/versions/{draft.pk}/frames/").json()["results"]}
    assert now == {"f1": {"n": 0}, "f2": {"n": 5}}  # f1, which was fresh, was not written either
    bad = tab_b.patch(f"/api/versions/{draft.pk}/frames/", [{"id": "f1", "saved": "yesterday"}], format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "frames[0].saved"


@pytest.mark.django_db(transaction=True)
def test_two_clients_incrementing_a_counter_lose_no_update(owner, draft, live_server):
    """Two threads, each with its own connection and token: read the frame, add one to meta.n, write it back
    with If-Match; on 412 read again and retry. Every increment lands."""
    headers = {"Authorization": f"Token {Token.objects.create(user=owner).key}"}
    url = f"{live_server.url}/api/versions/{draft.pk}/frames/f1/"
    rounds, refused = 15, []

    def increment():
        with requests.Session() as session:
            session.headers.update(headers)
            for _ in range(rounds):
                while True:
                    read = session.get(url, timeout=30)
                    frame = read.json()
                    frame["meta"]["n"] += 1
                    write = session.put(url, json=frame, headers={"If-Match": read.headers["ETag"]}, timeout=30)
                    if write.status_code == 200:
                        break
                    assert write.status_code == 412, write.text
                    refused.append(1)

    threads = [threading.Thread(target=increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert requests.get(url, headers=headers, timeout=30).json()["meta"]["n"] == 2 * rounds


def test_the_edit_forms_of_two_tabs_cannot_overwrite_each_other(admin_client, owner, draft):
    url = reverse("viewer:dataset-edit", args=[draft.dataset_id])
    etag = Dataset.objects.get(pk=draft.dataset_id).etag
    assert f'name="etag" value="{escape(etag)}"' in page_html(admin_client.get(url))  # what both tabs send back
    form = {"name": "etags", "tags": "a", "metadata": "{}", "etag": etag}
    assert admin_client.post(url, {**form, "description": "first tab"}).status_code == 302
    refused = admin_client.post(url, {**form, "description": "second tab"})
    assert refused.status_code == 400 and "changed by someone else" in page_html(refused)
    assert Dataset.objects.get(pk=draft.dataset_id).description == "first tab"
    metadata_url = reverse("viewer:version-metadata", args=[draft.pk])
    metadata_etag = draft.etag
    assert f'name="etag" value="{escape(metadata_etag)}"' in page_html(admin_client.get(metadata_url))
    assert admin_client.post(metadata_url, {"metadata": '{"a": 1}', "etag": metadata_etag}).status_code == 302
    refused = admin_client.post(metadata_url, {"metadata": '{"a": 2}', "etag": metadata_etag})
    assert refused.status_code == 400 and "changed by someone else" in page_html(refused)
