"""Authentication: nothing but the login page and /healthz answers an anonymous visitor; the login page,
the home page's dataset list and signing out work, in Django's test client and in a real browser."""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from frames import services

ANONYMOUS_OK = {"/login/", "/healthz"}
# Exchanges a username and password for an API token: POST only, so GET answers 405.
ANONYMOUS_POST_ONLY = {"/api/auth/token/"}


def _routes(patterns=None, prefix=""):
    """Every URL path of the project (converters filled with a sample value), admin aside."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if route.startswith("admin/") or route.startswith("^"):
            continue
        path = prefix + re.sub(r"<(?:\w+:)?\w+>", "x", re.sub(r"<int:\w+>", "1", route))
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, path)
        elif isinstance(entry, URLPattern):
            yield "/" + path


# That every route has an expectation (and meets it, for every kind of user) is tests/test_access.py's walk,
# which fails when a URL pattern or an OpenAPI operation appears without a rule.


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(set(_routes())))
def test_anonymous_visitors_get_only_the_login_page_and_healthz(client, path):
    response = client.get(path)
    if path in ANONYMOUS_OK:
        assert response.status_code == 200
    elif path in ANONYMOUS_POST_ONLY:
        assert response.status_code == 405
    elif path.startswith("/api/"):
        assert response.status_code in (401, 403), response.content[:300]
    else:
        assert response.status_code in (302, 405), response.status_code
        if response.status_code == 302:
            assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_pages_redirect_to_login_and_api_refuses(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"
    assert client.get("/admin/").status_code == 302
    for path in ("/api/", "/api/datasets/", "/api/schema/", "/api/docs/"):
        assert client.get(path).status_code in (401, 403), path


@pytest.mark.django_db
def test_healthz_is_anonymous_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_a_broker_that_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_login_form_signs_in_and_out(client, django_user_model):
    django_user_model.objects.create_user("alice", password="correct horse battery")
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="username"' in page.content and b"HyperData" in page.content

    wrong = client.post("/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and b"alert-error" in wrong.content

    signed_in = client.post("/login/", {"username": "alice", "password": "correct horse battery", "next": "/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and b"alice" in home.content
    # Signed-in users skip the login form.
    assert client.get("/login/").status_code == 302

    signed_out = client.post("/logout/")
    assert signed_out.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_home_lists_datasets_with_owner_versions_frames_and_last_change(admin_client, admin_user):
    dataset = services.dataset_create(user=admin_user, name="Parking lots", description="Cars from above", tags=["aerial"])
    draft = dataset.versions.get()
    services.frames_add(user=admin_user, version=draft, frames=[
        {"id": f"f{i}", "sources": [{"id": "default", "uri": f"https://example.com/{i}.jpg"}]} for i in range(3)
    ])
    services.version_snapshot(user=admin_user, version=draft)
    html = admin_client.get("/").content.decode()
    row = re.search(r"<tr class=\"ds-row\"[^>]*>\s*<td>\s*<a[^>]*>Parking lots</a>.*?</tr>", html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:5] == ["admin", "2", "3", "Current"]  # owner, versions, frames of the newest version, its name
    assert "ago" in cells[5]
    assert "aerial" in row and "Cars from above" in row
    assert "Parking lots" not in admin_client.get("/?q=harbour").content.decode()


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_datasets(admin_client, admin_user, django_assert_max_num_queries):
    services.dataset_create(user=admin_user, name="one")
    admin_client.get("/")  # warm the session
    with django_assert_max_num_queries(5) as few:  # one more than before projects: the groups the list shows
        admin_client.get("/")
    for n in range(10):
        services.dataset_create(user=admin_user, name=f"many-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert b"many-9" in admin_client.get("/").content


# ------------------------------------------------------------------------------------------- browser
def test_browser_sign_in_through_the_login_page(page, live_server, django_user_model):
    bob = django_user_model.objects.create_user("bob", password="a long enough password")
    services.dataset_create(user=bob, name="Browser dataset")
    page.goto("/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name=re.compile("Datasets")).is_visible()
    assert page.get_by_role("link", name="Browser dataset").is_visible()
    # The stylesheet is served: the top bar is dark.
    background = page.eval_on_selector(".topbar", "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(22, 25, 29)"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))


def test_logged_in_page_fixture(logged_in_page):
    logged_in_page.goto("/")
    assert logged_in_page.get_by_role("link", name="Administration").is_visible()
    assert logged_in_page.locator(".user-name").inner_text() == "admin"
