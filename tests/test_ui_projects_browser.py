"""The dataset list grouped by project, in Debian's Chromium (Playwright): the cards/table switch remembered
across visits, tag chips clicked with the any/all/not switch, "Created by me", the project picker, Copy ID
buttons (clipboard permission granted; the text read back from the clipboard and from what the page reports)
and the version search of the tree as one types. Screenshots go to /tmp/shots-13/datasets/."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from frames import services
from frames.selectors import SYSTEM

SHOTS = Path("/tmp/shots-13/datasets")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def make_world(admin):
    roads = services.project_create(user=admin, name="Roads", description="Street scenes from the test fleet")
    rails = services.project_create(user=admin, name="Rails")
    datasets = {
        "highway": services.dataset_create(user=admin, name="highway", project=roads.pk, tags=["night", "rain"],
                                           description="Highway drives, day and night"),
        "city": services.dataset_create(user=admin, name="city", project=roads.pk, tags=["night"], description="Downtown"),
        "tram": services.dataset_create(user=admin, name="tram", project=rails.pk, tags=["rain"]),
    }
    bob = User.objects.create_user("bob")
    datasets["bobs-data"] = services.dataset_create(user=bob, name="bobs-data", tags=["fog"])
    root = datasets["city"].versions.get()
    services.frames_add(user=SYSTEM, version=root, frames=[{"id": "f1", "sources": [{"uri": "https://example.com/1.jpg"}]}])
    v1 = services.version_publish(user=SYSTEM, version=root, name="v1")
    v2 = services.version_publish(user=SYSTEM, version=services.version_create(user=SYSTEM, parent=v1, name="v2", description="night fixes"))
    current = services.version_create(user=SYSTEM, parent=v2, name="Current")
    side = services.version_create(user=SYSTEM, parent=v1, name="side branch")
    return {"roads": roads, "rails": rails, **datasets, "v1": v1, "v2": v2, "current": current, "side": side}


def card_names(page) -> list[str]:
    return sorted(page.locator(".ds-card .ds-card-name").all_inner_texts())


def row_names(page) -> list[str]:
    return sorted(page.locator("#datasets tbody tr .dataset-link").all_inner_texts())


@pytest.mark.django_db(transaction=True)
def test_cards_table_switch_is_remembered_and_groups_show_projects(logged_in_page, admin_user):
    page = logged_in_page
    make_world(admin_user)
    page.goto("/")
    expect(page.locator("#view-switch a.active")).to_have_attribute("data-view", "table")
    expect(page.locator(".ds-project")).to_have_count(3)
    assert [s.get_attribute("data-project-name") for s in page.locator(".ds-project").all()] == ["General", "Rails", "Roads"]
    roads = page.locator('.ds-project[data-project-name="Roads"]')
    expect(roads.locator("tbody tr")).to_have_count(2)
    expect(roads.locator("tbody tr", has_text="highway").locator(".ds-owner")).to_have_text("admin")
    shot(page, "01-table")

    page.click('#view-switch a[data-view="cards"]')
    expect(page.locator("#datasets")).to_have_attribute("data-view", "cards")
    assert card_names(page) == ["bobs-data", "city", "highway", "tram"]
    expect(page.locator('.ds-card[data-dataset-id] .ds-owner', has_text="bob")).to_have_count(1)
    shot(page, "02-cards")
    page.goto("/")  # a new visit without ?view=: the cards are remembered
    expect(page.locator("#datasets")).to_have_attribute("data-view", "cards")
    page.click('#view-switch a[data-view="table"]')
    page.goto("/")
    expect(page.locator("#datasets")).to_have_attribute("data-view", "table")


@pytest.mark.django_db(transaction=True)
def test_tag_chips_modes_created_by_me_and_project_picker(logged_in_page, admin_user):
    page = logged_in_page
    world = make_world(admin_user)
    page.goto("/?view=cards")
    page.click('#tag-chips a[data-tag="night"]')
    expect(page.locator('#tag-chips a[data-tag="night"]')).to_have_attribute("aria-pressed", "true")
    assert card_names(page) == ["city", "highway"]
    page.click('#tag-chips a[data-tag="rain"]')  # any (the default): night or rain
    expect(page.locator(".ds-card")).to_have_count(3)
    assert card_names(page) == ["city", "highway", "tram"]
    page.click('#tag-mode a[data-mode="all"]')
    expect(page.locator(".ds-card")).to_have_count(1)
    assert card_names(page) == ["highway"] and "tag_mode=all" in page.url
    shot(page, "03-tags-all")
    page.click('#tag-mode a[data-mode="not"]')
    expect(page.locator(".ds-card")).to_have_count(1)
    assert card_names(page) == ["bobs-data"]
    # A tag on a card filters too (it toggles that tag); the URL is the filter: opening it again gives the same.
    page.goto("/?view=cards")
    page.locator('.ds-card[data-dataset-id="%s"] .tag[data-tag="fog"]' % world["bobs-data"].pk).click()
    expect(page.locator(".ds-card")).to_have_count(1)
    shared = page.url
    page.goto(shared)
    assert card_names(page) == ["bobs-data"]

    page.goto("/?view=cards")
    page.click("#filter-mine")
    expect(page.locator("#filter-mine")).to_have_attribute("aria-pressed", "true")
    assert card_names(page) == ["city", "highway", "tram"]
    page.click("#filter-mine")
    expect(page.locator(".ds-card")).to_have_count(4)

    page.select_option("#project-filter", world["rails"].pk)  # submits itself
    expect(page.locator(".ds-project")).to_have_count(1)
    expect(page.locator(".ds-project h2")).to_contain_text("Rails")
    assert card_names(page) == ["tram"]
    shot(page, "04-project-filter")

    page.goto("/?tag_mode=sometimes&tag=night")
    expect(page.locator("#filter-errors")).to_contain_text("tag_mode:")
    shot(page, "05-bad-filter")


@pytest.mark.django_db(transaction=True)
def test_copy_id_buttons_copy_the_ids(logged_in_page, admin_user, live_server):
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    world = make_world(admin_user)

    def copy(button, expected):
        button.click()
        expect(button).to_have_attribute("data-copied", expected)
        expect(page.locator("#copy-status")).to_have_text(f"Copied {expected}")
        assert page.evaluate("navigator.clipboard.readText()") == expected

    page.goto("/?view=cards")
    copy(page.locator('.ds-card[data-dataset-id="%s"] .copy-id' % world["tram"].pk), world["tram"].pk)
    page.goto("/?view=table")
    copy(page.locator('tr[data-dataset-id="%s"] .copy-id' % world["city"].pk), world["city"].pk)

    page.goto(f"/datasets/{world['city'].pk}/")
    copy(page.locator("#copy-dataset-id"), world["city"].pk)
    expect(page.locator("#copy-dataset-id")).to_have_text("Copied")
    copy(page.locator('.vnode[data-version-id="%s"] .copy-id' % world["v2"].pk), world["v2"].pk)
    shot(page, "06-dataset-page-copied")

    page.goto(f"/versions/{world['current'].pk}/info/")
    copy(page.locator("#copy-version-id"), world["current"].pk)
    expect(page.locator("#info-owner")).to_have_text("admin")
    expect(page.locator("#info-project")).to_have_text("Roads")
    shot(page, "07-version-info")


@pytest.mark.django_db(transaction=True)
def test_version_search_filters_the_tree_as_one_types(logged_in_page, admin_user):
    page = logged_in_page
    world = make_world(admin_user)
    page.goto(f"/datasets/{world['city'].pk}/")
    nodes = page.locator("#version-tree .vnode")
    expect(nodes).to_have_count(4)

    def shown() -> dict[str, bool]:
        return {node.get_attribute("data-version-name"): node.is_visible() for node in nodes.all()}

    page.fill("#version-search", "night")
    expect(page.locator("#version-search-count")).to_have_text("1 of 4 versions")
    assert shown() == {"v1": True, "v2": True, "Current": False, "side branch": False}
    expect(page.locator(".vnode.is-match")).to_have_attribute("data-version-id", world["v2"].pk)
    assert "find=night" in page.url
    shot(page, "08-version-search")

    page.fill("#version-search", world["side"].pk[:10])  # by id
    expect(page.locator(".vnode.is-match")).to_have_attribute("data-version-name", "side branch")
    assert shown() == {"v1": True, "v2": False, "Current": False, "side branch": True}

    page.reload()  # ?find= is in the URL: the server shows the same
    expect(page.locator("#version-search")).to_have_value(world["side"].pk[:10])
    assert shown() == {"v1": True, "v2": False, "Current": False, "side branch": True}

    page.fill("#version-search", "")
    expect(page.locator("#version-search-count")).to_have_text("")
    assert set(shown().values()) == {True} and "find=" not in page.url
