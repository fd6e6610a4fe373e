"""CSRF on every form (issue 16): each POST form the pages render (and the sign-in forms) carries Django's
CSRF token, and the same POST without it is refused with 403; the API's session-authenticated writes need the
token too (DRF's SessionAuthentication), token-authenticated ones do not (no cookie is involved)."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.test import Client
from rest_framework.test import APIClient

from frames import services

from .hostile_world import make_hostile_world, pages
from .pages import html


class Forms(HTMLParser):
    """The POST forms of a page: action and the fields a browser would send."""

    def __init__(self, page_url):
        super().__init__()
        self.page_url, self.forms, self.current = page_url, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.current = {"action": urljoin(self.page_url, attrs.get("action") or self.page_url), "fields": {}}
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.current["fields"].setdefault(attrs["name"], attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def post_forms(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = Forms(url)
    parser.feed(html(response))
    return parser.forms


def refused_without_token(client, form) -> bool:
    fields = {k: v for k, v in form["fields"].items() if k != "csrfmiddlewaretoken"}
    response = client.post(form["action"], fields)
    return response.status_code == 403 and b"CSRF" in response.content


@pytest.fixture
def world(admin_user, django_user_model, media_roots, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    world = make_hostile_world(admin_user, media_roots)
    django_user_model.objects.create_user("vera", password="pw-vera-123456")
    services.member_set(user=admin_user, dataset=world.dataset, username="vera", role="viewer")
    world.credential = services.credential_create(user=admin_user, data={
        "provider": "s3", "name": "minio", "host": "minio.example:9000", "bucket": "media", "region": "eu-west-1",
        "key": "KEYID123", "secret": "s3cr3t-value", "use_tls": True, "shared": False})
    return world


@pytest.mark.django_db
def test_every_post_form_carries_the_token_and_is_refused_without_it(admin_user, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    ds, pub, draft, cred = world.dataset.pk, world.published.pk, world.draft.pk, world.credential.pk
    urls = [path for path, _texts in pages(world).values() if not path.startswith(("/api/", "/admin/"))] + [
        "/datasets/new/", f"/datasets/{ds}/edit/", f"/datasets/{ds}/delete/", f"/versions/{draft}/edit/",
        f"/versions/{pub}/child/", f"/versions/{draft}/publish/", f"/versions/{draft}/snapshot/",
        f"/versions/{draft}/delete/", "/settings/cloud-access/new/", f"/settings/cloud-access/{cred}/edit/",
    ]
    forms = {form["action"]: form for url in urls for form in post_forms(client, url)}
    expected = ["/logout/", "/datasets/new/", f"/datasets/{ds}/edit/", f"/datasets/{ds}/delete/", f"/datasets/{ds}/members/",
                f"/versions/{draft}/edit/", f"/versions/{pub}/child/", f"/versions/{draft}/publish/",
                f"/versions/{draft}/snapshot/", f"/versions/{draft}/delete/", f"/versions/{draft}/metadata/",
                f"/versions/{pub}/annotate/", "/settings/cloud-access/new/", f"/settings/cloud-access/{cred}/edit/",
                f"/settings/cloud-access/{cred}/delete/"]
    found = {action.split("?")[0].replace("http://testserver", "") for action in forms}
    assert set(expected) <= found, sorted(set(expected) - found)
    assert any("/members/" in a and a.rstrip("/").split("/")[-1].isdigit() for a in found)  # a member's role form
    for action, form in forms.items():
        assert form["fields"].get("csrfmiddlewaretoken"), f"{action}: no CSRF token in the form"
        assert refused_without_token(client, form), f"{action}: a POST without the token was not refused"


@pytest.mark.django_db
@pytest.mark.parametrize("login_url", ["/login/", "/admin/login/"])
def test_the_sign_in_forms_carry_the_token_and_need_it(admin_user, login_url):
    client = Client(enforce_csrf_checks=True)
    [form] = post_forms(client, login_url)
    form["fields"].update(username="admin", password="password")  # pytest-django's admin_user
    assert form["fields"]["csrfmiddlewaretoken"]
    assert refused_without_token(client, form)
    assert client.get("/").status_code == 302  # still signed out
    assert client.post(form["action"], form["fields"]).status_code == 302  # with the token: signed in
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_session_authenticated_api_writes_need_the_token(admin_user):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(admin_user)
    refused = api.post("/api/datasets/", {"name": "no-token"}, format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert api.get("/").status_code == 200  # a page sets the csrftoken cookie, as the browser's scripts read it
    token = api.cookies["csrftoken"].value
    created = api.post("/api/datasets/", {"name": "with-token"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201, created.content
    assert [d["name"] for d in api.get("/api/datasets/").json()["results"]] == ["with-token"]
