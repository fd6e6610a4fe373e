"""The dataset list grouped by project (issue 13), server side with Django's test client: groups, cards or table
(remembered), tag chips with any / all / not, "Created by me", the owner shown, the project picker of the
dataset form, the version search of the tree, and bad filter values refused naming the parameter. The browser
side (clicks, Copy ID, typing in the search) is tests/test_ui_projects_browser.py."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from frames import services
from frames.models import Dataset, Project
from frames.selectors import SYSTEM

from .pages import html as page_html

pytestmark = pytest.mark.django_db


def names(html: str) -> list[str]:
    """Dataset names in page order, cards or table."""
    return re.findall(r'class="[^"]*dataset-link" href="[^"]+">([^<]+)<', html)


def groups(html: str) -> dict[str, list[str]]:
    """Project name -> the dataset names listed under it."""
    found = {}
    for name, body in re.findall(r'<section class="ds-project"[^>]*data-project-name="([^"]+)">(.*?)</section>', html, re.S):
        found[name] = names(body)
    return found


@pytest.fixture
def world(admin_user):
    """admin's projects Roads (two datasets, and bob's, moved there by admin) and Rails (one), a dataset in
    General."""
    roads = services.project_create(user=admin_user, name="Roads")
    rails = services.project_create(user=admin_user, name="Rails")
    services.dataset_create(user=admin_user, name="highway", project=roads.pk, tags=["night", "rain"])
    services.dataset_create(user=admin_user, name="city", project=roads.pk, tags=["night"])
    services.dataset_create(user=admin_user, name="tram", project=rails.pk, tags=["rain"])
    services.dataset_create(user=admin_user, name="loose")
    bob = User.objects.create_user("bob")
    bobs = services.dataset_create(user=bob, name="bobs-data", tags=["night"])  # bob cannot see Roads: staff move it
    services.dataset_update(user=admin_user, dataset=bobs, project=roads.pk)
    return {"roads": roads, "rails": rails, "bob": bob}


def get(client, **params):
    response = client.get("/", params)
    return response, page_html(response)


def test_datasets_are_grouped_by_project_with_the_projects_by_name(admin_client, world):
    _, html = get(admin_client)
    assert groups(html) == {"General": ["loose"], "Rails": ["tram"], "Roads": ["bobs-data", "city", "highway"]}
    assert list(groups(html)) == ["General", "Rails", "Roads"]


def test_project_filter_shows_one_group(admin_client, world):
    response, html = get(admin_client, project=world["rails"].pk)
    assert response.status_code == 200 and groups(html) == {"Rails": ["tram"]}
    assert f'<option value="{world["rails"].pk}" selected>' in html


def test_an_empty_project_of_ones_own_is_listed_until_the_list_is_filtered(admin_client, world):
    services.project_create(user=User.objects.get(username="admin"), name="Empty one")
    _, html = get(admin_client)
    assert groups(html)["Empty one"] == [] and "No datasets in this project yet." in html
    _, html = get(admin_client, q="tram")
    assert groups(html) == {"Rails": ["tram"]}


def test_tag_chips_filter_with_any_all_and_not(admin_client, world):
    def listed(**params):
        return sorted(names(get(admin_client, **params)[1]))

    both = {"tag": ["night", "rain"]}
    assert listed(**both) == ["bobs-data", "city", "highway", "tram"]
    assert listed(**both, tag_mode="all") == ["highway"]
    assert listed(**both, tag_mode="not") == ["loose"]
    assert listed(tag="rain", tag_mode="not") == ["bobs-data", "city", "loose"]
    _, html = get(admin_client, tag="night")
    chip = re.search(r'<a class="ds-chip active" href="([^"]*)" data-tag="night"', html)
    assert chip, "the chosen tag's chip is marked active"
    assert chip.group(1) == "?", "clicking the active chip removes it"
    rain = re.search(r'<a class="ds-chip " href="([^"]*)" data-tag="rain"', html).group(1).replace("&amp;", "&")
    assert sorted(rain.lstrip("?").split("&")) == ["tag=night", "tag=rain"]
    counts = dict(re.findall(r'data-tag="([^"]+)"[^>]*>[^<]*<span class="ds-chip-count">(\d+)<', html))
    assert counts == {"night": "3", "rain": "2"}


def test_created_by_me_and_the_owner_shown(admin_client, world):
    _, html = get(admin_client, created_by_me="true")
    assert sorted(names(html)) == ["city", "highway", "loose", "tram"]
    assert 'id="filter-mine" href="?"' in html and 'aria-pressed="true"' in html
    _, html = get(admin_client, view="table")
    row = html[html.index(">bobs-data<"):]
    assert '<td class="ds-owner">bob</td>' in row[: row.index("</tr>")]
    _, html = get(admin_client, view="cards")
    card = html[html.index(">bobs-data<"):]
    assert re.search(r'class="ds-owner"[^>]*>.*?</span>bob</span>', card[: card.index("</article>")], re.S)


def test_cards_or_table_is_remembered_in_a_cookie(admin_client, world):
    response, html = get(admin_client)
    assert 'data-view="table"' in html and "<table" in html  # the default
    response, html = get(admin_client, view="cards")
    assert response.cookies["datasets_view"].value == "cards" and "ds-card" in html and "<table" not in html
    _, html = get(admin_client)  # no ?view=: the remembered one
    assert '<div class="ds-groups ds-view-cards"' in html
    response, html = get(admin_client, view="table")
    assert response.cookies["datasets_view"].value == "table" and "<table" in html


@pytest.mark.parametrize("params,field", [
    ({"tag_mode": "some", "tag": "night"}, "tag_mode"),
    ({"created_by_me": "maybe"}, "created_by_me"),
    ({"project": "no-such-project"}, "project"),
    ({"view": "grid"}, "view"),
])
def test_bad_filter_values_are_refused_naming_the_parameter(admin_client, world, params, field):
    response, html = get(admin_client, **params)
    assert response.status_code == 400
    assert f"{field}:" in html[html.index('id="filter-errors"'):][:400]
    assert "datasets_view" not in response.cookies


def test_a_project_one_cannot_see_is_not_offered_and_cannot_be_filtered(client, world):
    bob = world["bob"]
    client.force_login(bob)
    response, html = get(client)
    assert groups(html) == {"Roads": ["bobs-data"]} and "Rails" not in html
    response, _ = get(client, project=world["rails"].pk)
    assert response.status_code == 400


def test_the_dataset_form_offers_the_projects_and_makes_a_new_one(admin_client, world):
    html = admin_client.get("/datasets/new/", {"project": world["rails"].pk}).content.decode()
    assert f'<option value="{world["rails"].pk}" selected>Rails</option>' in html
    assert '<option value="">General</option>' in html
    response = admin_client.post("/datasets/new/", {"name": "in-rails", "project": world["rails"].pk})
    assert response.status_code == 302 and Dataset.objects.get(name="in-rails").project == world["rails"]
    response = admin_client.post("/datasets/new/", {"name": "in-new", "new_project": "Ferries"})
    assert response.status_code == 302 and Dataset.objects.get(name="in-new").project.name == "Ferries"
    # Both at once, or a project that does not exist: refused next to the field, nothing made.
    response = admin_client.post("/datasets/new/", {"name": "nowhere", "project": world["rails"].pk, "new_project": "X"})
    assert response.status_code == 400 and 'data-field="new_project"' in response.content.decode()
    assert not Dataset.objects.filter(name="nowhere").exists() and not Project.objects.filter(name="X").exists()


def test_editing_a_dataset_moves_it_to_another_project(admin_client, world):
    tram = Dataset.objects.get(name="tram")
    html = admin_client.get(f"/datasets/{tram.pk}/edit/").content.decode()
    assert f'<option value="{world["rails"].pk}" selected>Rails</option>' in html
    response = admin_client.post(f"/datasets/{tram.pk}/edit/", {"name": "tram", "project": world["roads"].pk})
    assert response.status_code == 302
    assert Dataset.objects.get(pk=tram.pk).project == world["roads"]


def test_the_owner_and_project_show_on_the_dataset_page_and_the_info_tab(admin_client, world):
    bobs = Dataset.objects.get(name="bobs-data")
    html = admin_client.get(f"/datasets/{bobs.pk}/").content.decode()
    assert re.search(r'id="dataset-owner">owner <strong>bob</strong>', html)
    assert re.search(r'id="dataset-project">Roads<', html)
    version = bobs.versions.get()
    html = page_html(admin_client.get(f"/versions/{version.pk}/info/"))
    assert re.search(r'id="info-owner"[^>]*>bob<', html) and re.search(r'id="info-project"><a [^>]+>Roads<', html)
    assert f'data-copy-id="{version.pk}"' in html and f'data-copy-id="{bobs.pk}"' in html


def tree(dataset):
    """v1 (published) -> v2 "night fixes" (published) -> Current (draft); v1 -> "side branch" (draft)."""
    root = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=root, frames=[{"id": "f1", "sources": [{"uri": "https://example.com/1.jpg"}]}])
    v1 = services.version_publish(user=SYSTEM, version=root, name="v1")
    v2 = services.version_create(user=SYSTEM, parent=v1, name="v2", description="night fixes")
    v2 = services.version_publish(user=SYSTEM, version=v2)
    current = services.version_create(user=SYSTEM, parent=v2, name="Current")
    side = services.version_create(user=SYSTEM, parent=v1, name="side branch")
    return v1, v2, current, side


def visible_tree(html: str) -> dict[str, bool]:
    """Version name -> whether its tree node is shown (its <li> not hidden)."""
    return {name: not hidden for hidden, name in re.findall(r'<li( hidden)?>\s*<div class="vnode[^"]*"[^>]*data-version-name="([^"]+)"', html)}


def test_the_version_search_keeps_matches_and_their_ancestors(admin_client, world):
    dataset = Dataset.objects.get(name="city")
    v1, v2, current, side = tree(dataset)
    html = admin_client.get(f"/datasets/{dataset.pk}/", {"find": "NIGHT"}).content.decode()
    assert visible_tree(html) == {"v1": True, "v2": True, "Current": False, "side branch": False}
    assert re.search(r'class="vnode is-published is-match" data-version-id="%s"' % v2.pk, html)
    assert "1 of 4 versions" in html
    html = admin_client.get(f"/datasets/{dataset.pk}/", {"find": current.pk[:12]}).content.decode()
    assert visible_tree(html) == {"v1": True, "v2": True, "Current": True, "side branch": False}
    html = admin_client.get(f"/datasets/{dataset.pk}/", {"find": "nothing like it"}).content.decode()
    assert set(visible_tree(html).values()) == {False} and 'id="version-search-empty"' in html
    html = admin_client.get(f"/datasets/{dataset.pk}/", {"find": "side", "view": "list"}).content.decode()
    shown = re.findall(r'<tr data-version-id="\w+" data-version-name="([^"]+)"[^>]*?(hidden)?\s*class', html)
    assert {name: not hidden for name, hidden in shown} == {"v1": True, "v2": False, "Current": False, "side branch": True}
