"""The dataset's Members tab and what a role shows: owners add users by name, change roles and remove members
(errors next to the field); everyone else reads the list and is told who can change it; the dataset and
version pages show the user's role and disable what it does not allow. Server side with Django's test client,
then in Chromium with screenshots in test-artifacts/screenshots/."""
from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from frames import services

SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")


@pytest.fixture
def team(django_user_model):
    """alice owns "Harbour cams" (a published v1 and its draft); bob views it, carol annotates it; dave is not
    in it."""
    users = {name: django_user_model.objects.create_user(name) for name in ("alice", "bob", "carol", "dave")}
    dataset = services.dataset_create(user=users["alice"], name="Harbour cams", description="Cranes and ships")
    published, draft = services.version_snapshot(user=users["alice"], version=dataset.versions.get(), name="v1")
    services.member_set(user=users["alice"], dataset=dataset, username="bob", role="viewer")
    services.member_set(user=users["alice"], dataset=dataset, username="carol", role="annotator")
    return users, dataset, published, draft


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def members_shown(html: str) -> dict[str, str]:
    """user name -> role, as the Members table shows them."""
    return dict(re.findall(r'<tr data-member-id="\d+" data-username="([^"]+)" data-role="(\w+)"', html))


def field_errors(html: str) -> dict[str, str]:
    return {field: unescape(message.strip()) for field, message in re.findall(r'class="field-error[^"]*" role="alert" data-field="(\w+)">([^<]*)<', html)}


def member_id(dataset, username) -> int:
    return dataset.members.get(user__username=username).pk


# ------------------------------------------------------------------------------------------ server side
@pytest.mark.django_db
def test_an_owner_adds_a_user_by_name_changes_their_role_and_removes_them(team):
    users, dataset, _, _ = team
    alice = client_of(users["alice"])
    url = f"/datasets/{dataset.pk}/members/"
    page = alice.get(url).content.decode()
    assert members_shown(page) == {"alice": "owner", "carol": "annotator", "bob": "viewer"}
    assert 'id="member-add"' in page and 'data-tab="members"' in page

    added = alice.post(url, {"username": "dave", "role": "annotator"})
    assert added.status_code == 302 and added["Location"] == url
    assert members_shown(alice.get(url).content.decode())["dave"] == "annotator"
    assert client_of(users["dave"]).get(f"/datasets/{dataset.pk}/").status_code == 200

    changed = alice.post(f"{url}{member_id(dataset, 'dave')}/", {"role": "owner"})
    assert changed.status_code == 302
    assert members_shown(alice.get(url).content.decode())["dave"] == "owner"

    confirm = alice.get(f"{url}{member_id(dataset, 'dave')}/remove/").content.decode()
    assert "Remove dave from" in confirm and "dave will no longer see" in confirm
    removed = alice.post(f"{url}{member_id(dataset, 'dave')}/remove/")
    assert removed.status_code == 302 and removed["Location"] == url
    assert "dave" not in members_shown(alice.get(url).content.decode())
    assert client_of(users["dave"]).get(f"/datasets/{dataset.pk}/").status_code == 404


@pytest.mark.django_db
def test_refusals_come_back_next_to_the_field_and_change_nothing(team):
    users, dataset, _, _ = team
    alice = client_of(users["alice"])
    url = f"/datasets/{dataset.pk}/members/"
    before = members_shown(alice.get(url).content.decode())

    unknown = alice.post(url, {"username": "nobody", "role": "viewer"})
    assert unknown.status_code == 400
    assert field_errors(unknown.content.decode()) == {"username": "there is no active user named 'nobody'"}
    assert 'value="nobody"' in unknown.content.decode()  # what was typed stays in the field

    bad_role = alice.post(url, {"username": "dave", "role": "admin"})
    assert bad_role.status_code == 400 and set(field_errors(bad_role.content.decode())) == {"role"}

    demoted = alice.post(f"{url}{member_id(dataset, 'alice')}/", {"role": "viewer"})
    assert demoted.status_code == 400
    row = re.search(r'<tr [^>]*data-username="alice".*?</tr>', demoted.content.decode(), re.S).group(0)
    assert "row-error" in row and "keeps at least one owner" in row

    last_owner = alice.post(f"{url}{member_id(dataset, 'alice')}/remove/", HTTP_X_DIALOG="1")
    assert last_owner.status_code == 400 and "keeps at least one owner" in last_owner.content.decode()
    assert "<html" not in last_owner.content.decode()  # the dialog gets the form alone
    assert members_shown(alice.get(url).content.decode()) == before


@pytest.mark.django_db
def test_the_add_form_in_a_dialog_answers_where_to_go(team):
    users, dataset, _, _ = team
    response = client_of(users["alice"]).post(f"/datasets/{dataset.pk}/members/", {"username": "dave", "role": "viewer"}, HTTP_X_DIALOG="1")
    assert response.status_code == 200 and response.json() == {"redirect": f"/datasets/{dataset.pk}/members/"}


@pytest.mark.django_db
def test_an_owner_who_leaves_is_sent_home(team):
    users, dataset, _, _ = team
    services.member_set(user=users["alice"], dataset=dataset, username="bob", role="owner")
    alice = client_of(users["alice"])
    left = alice.post(f"/datasets/{dataset.pk}/members/{member_id(dataset, 'alice')}/remove/")
    assert left.status_code == 302 and left["Location"] == "/"
    home = alice.get("/").content.decode()
    assert "You left “Harbour cams”." in home and f'href="/datasets/{dataset.pk}/"' not in home


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bob", "carol"])
def test_other_members_read_the_list_and_are_told_who_can_change_it(team, name):
    users, dataset, _, _ = team
    client = client_of(users[name])
    url = f"/datasets/{dataset.pk}/members/"
    page = client.get(url).content.decode()
    assert members_shown(page) == {"alice": "owner", "carol": "annotator", "bob": "viewer"}
    assert 'id="member-add"' not in page and "<select" not in page and "member-remove" not in page
    note = re.search(r'id="members-readonly">(.*?)</div>', page, re.S).group(1)
    assert "Only owners of this dataset (alice) and staff can add, change or remove members." in note
    assert client.post(url, {"username": name, "role": "owner"}).status_code == 403
    assert client.post(f"{url}{member_id(dataset, 'bob')}/", {"role": "owner"}).status_code == 403
    assert client.get(f"{url}{member_id(dataset, 'bob')}/remove/").status_code == 403
    assert members_shown(client.get(url).content.decode())[name] == ("viewer" if name == "bob" else "annotator")


@pytest.mark.django_db
def test_pages_show_the_users_role_and_disable_what_it_does_not_allow(team, admin_user):
    users, dataset, published, draft = team
    disabled = r'<span class="btn btn-sm[^"]* disabled" aria-disabled="true" title="Only an owner of this dataset can (\w+) it"'
    for name, role in (("bob", "viewer"), ("carol", "annotator")):
        client = client_of(users[name])
        page = client.get(f"/datasets/{dataset.pk}/").content.decode()
        assert f'data-my-role="{role}"' in page
        assert re.findall(disabled, page) == ["edit", "delete"]
        home = client.get("/").content.decode()
        assert re.findall(disabled, home) == ["edit", "delete"]
        info = client.get(f"/versions/{draft.pk}/info/").content.decode()
        assert f'data-my-role="{role}"' in info
        assert 'title="Only an owner of this dataset can do this" data-action="publish"' in info
        metadata = client.get(f"/versions/{draft.pk}/metadata/").content.decode()
        assert "Only an owner of this dataset can change a version's metadata" in unescape(metadata) and 'id="metadata-save"' not in metadata
    for user, role in ((users["alice"], "owner"), (admin_user, "staff")):
        page = client_of(user).get(f"/datasets/{dataset.pk}/").content.decode()
        assert f'data-my-role="{role}"' in page and not re.findall(disabled, page)
        assert 'data-action="dataset-edit">Edit dataset</a>' in page
        assert 'id="metadata-save"' in client_of(user).get(f"/versions/{draft.pk}/metadata/").content.decode()


@pytest.mark.django_db
def test_a_forbidden_page_says_why(team):
    users, dataset, _, draft = team
    response = client_of(users["bob"]).get(f"/versions/{draft.pk}/publish/")
    assert response.status_code == 403
    assert "Only an owner of this dataset can do this" in response.content.decode()


# ----------------------------------------------------------------------------------------------- browser
def sign_in(page, live_server, user):
    client = client_of(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.set_default_timeout(15_000)


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_browser_owner_manages_members(page, live_server, team):
    users, dataset, _, _ = team
    sign_in(page, live_server, users["alice"])
    page.goto(f"/datasets/{dataset.pk}/")
    page.get_by_role("link", name=re.compile(r"^Members")).click()
    expect(page.locator("#members tbody tr")).to_have_count(3)

    page.get_by_label("Add a user by name").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator('.field-error[data-field="username"]')).to_have_text("there is no active user named 'nobody'")
    shot(page, "members-owner-error")

    page.get_by_label("Add a user by name").fill("dave")
    page.get_by_label("Role", exact=True).select_option("annotator")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator('#members tr[data-username="dave"]')).to_have_attribute("data-role", "annotator")

    row = page.locator('#members tr[data-username="bob"]')
    row.get_by_label("Role of bob").select_option("annotator")
    row.get_by_role("button", name="Change").click()
    expect(page.locator('#members tr[data-username="bob"]')).to_have_attribute("data-role", "annotator")

    page.locator('#members tr[data-username="carol"] [data-action="member-remove"]').click()
    dialog = page.locator("dialog#app-dialog")
    expect(dialog).to_contain_text("Remove carol from")
    dialog.get_by_role("button", name="Remove member").click()
    expect(page.locator('#members tr[data-username="carol"]')).to_have_count(0)
    expect(page.locator("#members tbody tr")).to_have_count(3)
    shot(page, "members-owner")


def test_browser_viewer_reads_members(page, live_server, team):
    users, dataset, _, draft = team
    sign_in(page, live_server, users["bob"])
    page.goto(f"/datasets/{dataset.pk}/members/")
    expect(page.locator("#members-readonly")).to_contain_text("Only owners of this dataset (alice)")
    expect(page.locator("#member-add")).to_have_count(0)
    expect(page.locator(".ds-header [data-my-role]")).to_have_text("Your role: viewer")
    expect(page.locator('.ds-header [data-action="dataset-edit"]')).to_have_attribute("aria-disabled", "true")
    shot(page, "members-viewer")
    page.get_by_role("link", name=re.compile(r"^Versions")).click()
    expect(page.locator('#version-tree .vnode[data-version-name="v1"]')).to_be_visible()
    expect(page.locator('#version-tree [data-action="publish"]')).to_have_count(0)  # rows leave out what the role cannot do
    shot(page, "dataset-versions-viewer")
    page.goto(f"/versions/{draft.pk}/info/")
    expect(page.locator(".version-header [data-my-role]")).to_have_attribute("title", re.compile("^Your role in this dataset is viewer"))
    shot(page, "version-info-viewer")
