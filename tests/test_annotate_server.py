"""The server side of the annotator's read-only rule (issue 12, item 6), with Django's test client on a real
database: the frame contract's `edit` entry for every role on a draft and on a published version; the POST
behind "Annotate in a new draft" (viewer/views/annotate.py), which makes exactly one draft child of a published
version for an owner and lands on the same frame in it, and refuses everyone and everything else changing
nothing; and the read-only notice (templates/viewer/_edit_notice.html) as the frame page renders it."""
from __future__ import annotations

import json
import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from frames import services
from frames.models import DatasetVersion
from viewer.contract import PUBLISHED_REASON, VIEWER_REASON

pytestmark = pytest.mark.django_db

ODD_FRAME = "drive/cam 1/0001&x.jpg"  # slashes, a space and an ampersand: quoted in every URL


@pytest.fixture
def team(django_user_model):
    """olga owns "Quay cams" (a published "v1 <b>" with frames f1, f2 and ODD_FRAME, and its draft "Current");
    vera views it, abe annotates it, sam is staff, nick is not in it."""
    users = {name: django_user_model.objects.create_user(name) for name in ("olga", "vera", "abe", "nick")}
    users["sam"] = django_user_model.objects.create_user("sam", is_staff=True)
    dataset = services.dataset_create(user=users["olga"], name="Quay cams")
    frames = [{"id": frame_id, "context_id": "quay", "timestamp": i, "sources": [{"id": "default", "uri": f"https://example.com/{i}.jpg"}],
               "rois": [{"labels": ["boat"], "poly": [0, 0, 5, 0, 5, 5]}]} for i, frame_id in enumerate(["f1", "f2", ODD_FRAME])]
    services.frames_add(user=users["olga"], version=dataset.versions.get(), frames=frames)
    published, draft = services.version_snapshot(user=users["olga"], version=dataset.versions.get(), name="v1 <b>")
    services.member_set(user=users["olga"], dataset=dataset, username="vera", role="viewer")
    services.member_set(user=users["olga"], dataset=dataset, username="abe", role="annotator")
    return SimpleNamespace(users=users, dataset=dataset, published=published, draft=draft)


def client_of(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def frame_page(client, version, frame_id="f1", query=""):
    page = client.get(reverse("viewer:frame", args=[version.pk, frame_id]) + query)
    assert page.status_code == 200, page.content[:300]
    return page


def contract_of(page) -> dict:
    """The frame contract as the browser reads it: the page's JSON island."""
    island = re.search(r'<script id="frame-contract" type="application/json">(.*?)</script>', page.content.decode(), re.S)
    return json.loads(island.group(1))


def annotate_url(version, frame_id="f1") -> str:
    return reverse("viewer:version-annotate", args=[version.pk]) + "?" + f"frame={frame_id}"


def versions_of(team) -> list[tuple]:
    return list(DatasetVersion.objects.filter(dataset=team.dataset).order_by("seq").values_list("pk", "name", "status"))


# ------------------------------------------------------------------------------------------ the contract


@pytest.mark.parametrize("who,role", [("vera", "viewer"), ("abe", "annotator"), ("olga", "owner"), ("sam", "owner")])
def test_on_a_draft_annotators_and_owners_may_edit_and_viewers_are_told_why_not(team, who, role):
    edit = contract_of(frame_page(client_of(team.users[who]), team.draft))["edit"]
    editable = role != "viewer"
    assert edit == {
        "editable": editable,
        "reason": "" if editable else VIEWER_REASON,
        "role": role,
        "annotate_url": None,
        "labels_url": reverse("viewer:version-labels", args=[team.draft.pk]),
    }
    assert VIEWER_REASON == "Your role in this dataset is viewer: annotating needs annotator or owner."


@pytest.mark.parametrize("who,role,next_step", [
    ("vera", "viewer", ""),
    ("abe", "annotator", " An owner of this dataset can make a draft child to annotate in."),
    ("olga", "owner", " Make a draft child to annotate in."),
    ("sam", "owner", " Make a draft child to annotate in."),
])
def test_a_published_version_is_read_only_for_everyone_and_only_owners_get_the_draft_button(team, who, role, next_step):
    edit = contract_of(frame_page(client_of(team.users[who]), team.published))["edit"]
    assert edit["editable"] is False and edit["role"] == role
    assert edit["reason"] == "This version is published: published versions never change." + next_step == PUBLISHED_REASON + next_step
    assert edit["labels_url"] == reverse("viewer:version-labels", args=[team.published.pk])
    if role == "owner":
        assert edit["annotate_url"] == annotate_url(team.published)
    else:
        assert edit["annotate_url"] is None


def test_the_labels_url_answers_the_versions_label_names(team):
    client = client_of(team.users["abe"])
    labels = client.get(contract_of(frame_page(client, team.draft))["edit"]["labels_url"])
    assert labels.status_code == 200 and "boat" in labels.content.decode()


def test_the_annotate_url_keeps_the_browsers_filter_and_order(team):
    edit = contract_of(frame_page(client_of(team.users["olga"]), team.published, query="?sort=id&order=desc&label=boat"))["edit"]
    assert edit["annotate_url"] == annotate_url(team.published) + "&label=boat&sort=id&order=desc"


# ------------------------------------------------------------------------------------- annotate in a draft


def test_an_owner_on_a_published_version_gets_one_draft_child_and_lands_on_the_frame_there(team):
    before = versions_of(team)
    client = client_of(team.users["olga"])
    answer = client.post(contract_of(frame_page(client, team.published, query="?sort=id&label=boat"))["edit"]["annotate_url"])
    after = versions_of(team)
    assert len(after) == len(before) + 1 and after[:-1] == before
    child = DatasetVersion.objects.get(pk=after[-1][0])
    assert (child.parent_id, child.name, child.is_published) == (team.published.pk, "v1 <b> draft", False)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("viewer:frame", args=[child.pk, "f1"]) + "?label=boat&sort=id"
    landed = client.get(answer["Location"])
    assert landed.status_code == 200
    edit = contract_of(landed)["edit"]
    assert (edit["editable"], edit["reason"], edit["annotate_url"]) == (True, "", None)
    html = landed.content.decode()
    assert "Draft “v1 &lt;b&gt; draft” created from “v1 &lt;b&gt;”: annotate here." in html  # the message, escaped
    assert "<b>" not in html.split('id="frame-contract"')[0]


def test_a_second_draft_of_the_same_version_gets_a_numbered_name(team):
    client = client_of(team.users["sam"])  # staff: an owner everywhere
    for _ in range(2):
        assert client.post(annotate_url(team.published)).status_code == 302
    children = DatasetVersion.objects.filter(parent=team.published).exclude(pk=team.draft.pk).order_by("seq")
    assert [c.name for c in children] == ["v1 <b> draft", "v1 <b> draft 2"]


def test_a_frame_id_with_slashes_and_an_ampersand_lands_on_that_frame(team):
    client = client_of(team.users["olga"])
    url = contract_of(frame_page(client, team.published, ODD_FRAME))["edit"]["annotate_url"]
    assert "frame=drive%2Fcam+1%2F0001%26x.jpg" in url
    answer = client.post(url)
    child = DatasetVersion.objects.filter(parent=team.published).order_by("-seq").first()
    assert answer.status_code == 302 and answer["Location"] == reverse("viewer:frame", args=[child.pk, ODD_FRAME])
    assert contract_of(client.get(answer["Location"]))["frame"]["id"] == ODD_FRAME


def test_the_frame_may_come_in_the_form_body(team):
    answer = client_of(team.users["olga"]).post(reverse("viewer:version-annotate", args=[team.published.pk]), {"frame": "f2"})
    child = DatasetVersion.objects.filter(parent=team.published).order_by("-seq").first()
    assert child.pk != team.draft.pk and answer["Location"] == reverse("viewer:frame", args=[child.pk, "f2"])


def test_on_a_draft_the_post_just_opens_the_frame(team):
    before = versions_of(team)
    answer = client_of(team.users["olga"]).post(annotate_url(team.draft) + "&sort=id")
    assert answer.status_code == 302 and answer["Location"] == reverse("viewer:frame", args=[team.draft.pk, "f1"]) + "?sort=id"
    assert versions_of(team) == before


@pytest.mark.parametrize("who,status", [("abe", 403), ("vera", 403), ("nick", 404)])
def test_annotators_and_viewers_are_refused_and_non_members_told_nothing_exists(team, who, status):
    before = versions_of(team)
    for version in (team.published, team.draft):
        assert client_of(team.users[who]).post(annotate_url(version)).status_code == status
    assert versions_of(team) == before


def test_get_is_not_allowed_and_changes_nothing(team):
    before = versions_of(team)
    answer = client_of(team.users["olga"]).get(annotate_url(team.published))
    assert answer.status_code == 405 and answer["Allow"] == "POST"
    assert versions_of(team) == before


def test_a_missing_frame_is_named_and_an_unknown_one_is_404_and_nothing_is_made(team):
    client = client_of(team.users["olga"])
    before = versions_of(team)
    missing = client.post(reverse("viewer:version-annotate", args=[team.published.pk]))
    assert missing.status_code == 400 and missing.content.decode().startswith("frame: required")
    assert client.post(annotate_url(team.published, "no-such-frame")).status_code == 404
    assert client.post(reverse("viewer:version-annotate", args=["no-such-version"]) + "?frame=f1").status_code == 404
    assert versions_of(team) == before


def test_the_post_needs_the_csrf_token(team):
    client = client_of(team.users["olga"], enforce_csrf_checks=True)
    frame_page(client, team.published)  # sets the CSRF cookie
    before = versions_of(team)
    assert client.post(annotate_url(team.published)).status_code == 403
    assert versions_of(team) == before
    token = client.cookies["csrftoken"].value
    assert client.post(annotate_url(team.published), {"csrfmiddlewaretoken": token}).status_code == 302
    assert len(versions_of(team)) == len(before) + 1


# ------------------------------------------------------------------------------------------ the notice


def notice(html: str) -> str | None:
    """The read-only notice's markup, or None when there is none."""
    found = re.search(r'<div class="fv-readonly" id="frame-readonly" role="status">.*?</div>', html, re.S)
    return found.group(0) if found else None


def rendered_notice(page) -> str:
    """The include rendered with the frame page's own context (its contract and request)."""
    return render_to_string("viewer/_edit_notice.html", {"contract": page.context["contract"]}, request=page.wsgi_request)


def test_a_viewer_on_a_published_version_sees_why_and_no_button(team):
    page = frame_page(client_of(team.users["vera"]), team.published)
    for html in (page.content.decode(), rendered_notice(page)):
        shown = notice(html)
        assert shown is not None and PUBLISHED_REASON in unescape(shown)
        assert "frame-annotate-draft" not in shown and "<form" not in shown


def test_an_owner_on_a_published_version_sees_the_button_posting_to_the_escaped_annotate_url(team):
    page = frame_page(client_of(team.users["olga"]), team.published, query="?sort=id&order=desc")
    for html in (page.content.decode(), rendered_notice(page)):
        shown = notice(html)
        assert shown is not None and "Make a draft child to annotate in." in shown
        action = re.search(r'<form method="post" action="([^"]+)">', shown).group(1)
        assert "&amp;sort=id&amp;order=desc" in action and unescape(action) == page.context["contract"]["edit"]["annotate_url"]
        assert 'name="csrfmiddlewaretoken"' in shown and 'id="frame-annotate-draft"' in shown


def test_an_annotator_on_a_draft_sees_no_notice(team):
    page = frame_page(client_of(team.users["abe"]), team.draft)
    assert notice(page.content.decode()) is None and rendered_notice(page).strip() == ""


def test_the_reason_is_escaped():
    contract = {"edit": {"editable": False, "reason": "<script>alert(1)</script> & more", "annotate_url": None}}
    html = render_to_string("viewer/_edit_notice.html", {"contract": contract})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html and "<script>" not in html
