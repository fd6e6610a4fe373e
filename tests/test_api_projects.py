"""Projects in the REST API (issue 13): every dataset lives in one project, as in ClearML. Create, list, show,
rename and delete projects; put a dataset in a project on create and move it on update; filter datasets by
project, tags (any / all / not) and creator; who sees and who may change a project."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from frames import services
from frames.models import Dataset, Project

from .clients import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return api_client("alice")


@pytest.fixture
def bob():
    return api_client("bob")


def make_project(client, name, **extra):
    response = client.post("/api/projects/", {"name": name, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def make_dataset(client, name, **extra):
    response = client.post("/api/datasets/", {"name": name, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# -- create, list, show ---------------------------------------------------------------------------------------


def test_a_project_is_created_listed_and_shown_with_its_creator_and_dataset_count(alice):
    project = make_project(alice, "Street scenes", description="Cars and people")
    assert project["created_by"] == "alice" and project["dataset_count"] == 0 and project["description"] == "Cars and people"
    make_dataset(alice, "drive-1", project=project["id"])
    assert names(alice.get("/api/projects/")) == ["Street scenes"]
    shown = alice.get(f"/api/projects/{project['id']}/").json()
    assert shown["dataset_count"] == 1 and shown["name"] == "Street scenes"


def test_a_dataset_made_without_a_project_goes_to_general(alice):
    dataset = make_dataset(alice, "loose")
    assert dataset["project_name"] == Project.DEFAULT_NAME
    assert Dataset.objects.get(pk=dataset["id"]).project.name == "General"
    assert names(alice.get("/api/projects/")) == ["General"]


def test_a_dataset_can_be_made_in_a_new_project_named_on_the_fly(alice):
    dataset = make_dataset(alice, "fresh", new_project="Night drives")
    project = Project.objects.get(name="Night drives")
    assert dataset["project"] == project.pk and project.created_by.username == "alice"


def test_datasets_are_filtered_by_project(alice):
    roads, rails = make_project(alice, "Roads"), make_project(alice, "Rails")
    make_dataset(alice, "highway", project=roads["id"])
    make_dataset(alice, "city", project=roads["id"])
    make_dataset(alice, "tram", project=rails["id"])
    assert names(alice.get("/api/datasets/", {"project": roads["id"]})) == ["city", "highway"]
    assert names(alice.get("/api/datasets/", {"project": rails["id"]})) == ["tram"]
    assert len(names(alice.get("/api/datasets/"))) == 3


def test_a_dataset_moves_to_another_project_on_update(alice):
    roads, rails = make_project(alice, "Roads"), make_project(alice, "Rails")
    dataset = make_dataset(alice, "tram", project=roads["id"])
    moved = alice.patch(f"/api/datasets/{dataset['id']}/", {"project": rails["id"]}, format="json")
    assert moved.status_code == 200 and moved.json()["project"] == rails["id"] and moved.json()["project_name"] == "Rails"
    assert names(alice.get("/api/datasets/", {"project": roads["id"]})) == []


# -- bad input ------------------------------------------------------------------------------------------------


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(alice, bob):
    secret = make_project(bob, "Bob's own")  # bob's empty project: alice cannot see it
    before = Dataset.objects.count()
    for body, field in (
        ({"name": "x", "project": "no-such-project"}, "project"),
        ({"name": "x", "project": secret["id"]}, "project"),
        ({"name": "x", "project": secret["id"], "new_project": "Also"}, "new_project"),
    ):
        response = alice.post("/api/datasets/", body, format="json")
        assert response.status_code == 400 and field in error_fields(response), (body, response.content)
    assert Dataset.objects.count() == before
    assert alice.post("/api/projects/", {"name": "  "}, format="json").status_code == 400
    make_project(alice, "Taken")
    taken = alice.post("/api/projects/", {"name": "Taken"}, format="json")
    assert taken.status_code == 409 and error_fields(taken) == ["name"]
    for params, field in (({"project": "nope"}, "project"), ({"tag_mode": "some"}, "tag_mode"), ({"created_by_me": "maybe"}, "created_by_me")):
        response = alice.get("/api/datasets/", params)
        assert response.status_code == 400 and field in error_fields(response), (params, response.content)


# -- rename, delete ---------------------------------------------------------------------------------------------


def test_the_creator_renames_and_deletes_an_empty_project(alice):
    project = make_project(alice, "Draft name")
    renamed = alice.patch(f"/api/projects/{project['id']}/", {"name": "Final name", "description": "now described"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Final name" and renamed.json()["description"] == "now described"
    assert alice.delete(f"/api/projects/{project['id']}/").status_code == 204
    assert not Project.objects.filter(pk=project["id"]).exists()


def test_deleting_a_project_that_holds_datasets_is_refused_with_409_naming_it(alice):
    project = make_project(alice, "Busy")
    make_dataset(alice, "inside", project=project["id"])
    response = alice.delete(f"/api/projects/{project['id']}/")
    assert response.status_code == 409
    assert "'Busy'" in response.json()["detail"] and "1 dataset" in response.json()["detail"]
    assert error_fields(response) == ["project"]
    assert Project.objects.filter(pk=project["id"]).exists()


# -- who sees, who may change ------------------------------------------------------------------------------------


def test_a_project_is_seen_through_a_dataset_one_can_see_and_changed_only_by_its_creator_or_staff(alice, bob):
    project = make_project(alice, "Shared")
    dataset = make_dataset(alice, "shared-data", project=project["id"])
    url = f"/api/projects/{project['id']}/"
    # bob sees nothing of it: not in the list, 404 for the detail, the rename and the delete.
    assert names(bob.get("/api/projects/")) == []
    for response in (bob.get(url), bob.patch(url, {"name": "mine"}, format="json"), bob.delete(url)):
        assert response.status_code == 404, response.content
    # As a viewer of its dataset he sees it, but may not rename or delete it.
    services.member_set(user=alice.user, dataset=Dataset.objects.get(pk=dataset["id"]), username="bob", role="viewer")
    assert names(bob.get("/api/projects/")) == ["Shared"]
    assert bob.get(url).json()["dataset_count"] == 1
    for response in (bob.patch(url, {"name": "mine"}, format="json"), bob.delete(url)):
        assert response.status_code == 403 and error_fields(response) == ["project"], response.content
    assert Project.objects.get(pk=project["id"]).name == "Shared"
    # Staff may.
    staff = api_client(User.objects.create_user("root", is_staff=True))
    assert staff.patch(url, {"name": "Renamed by staff"}, format="json").status_code == 200


def test_dataset_count_counts_only_the_datasets_one_sees(alice, bob):
    project = make_project(alice, "Mixed")
    seen = make_dataset(alice, "seen", project=project["id"])
    make_dataset(alice, "hidden", project=project["id"])
    services.member_set(user=alice.user, dataset=Dataset.objects.get(pk=seen["id"]), username="bob", role="viewer")
    assert bob.get(f"/api/projects/{project['id']}/").json()["dataset_count"] == 1
    assert alice.get(f"/api/projects/{project['id']}/").json()["dataset_count"] == 2
    assert names(bob.get("/api/datasets/", {"project": project["id"]})) == ["seen"]


def test_a_dataset_cannot_be_moved_into_a_project_one_cannot_see(alice, bob):
    dataset = make_dataset(alice, "stay")
    hidden = make_project(bob, "Bob's")
    response = alice.patch(f"/api/datasets/{dataset['id']}/", {"project": hidden["id"]}, format="json")
    assert response.status_code == 400 and error_fields(response) == ["project"]
    assert Dataset.objects.get(pk=dataset["id"]).project.name == "General"


def test_anonymous_callers_cannot_list_or_create_projects(client):
    assert client.get("/api/projects/").status_code in (401, 403)
    assert client.post("/api/projects/", {"name": "x"}, content_type="application/json").status_code in (401, 403)
    assert not Project.objects.exists()


# -- tags and creator --------------------------------------------------------------------------------------------


def test_tags_filter_any_all_and_not(alice):
    make_dataset(alice, "both", tags=["night", "rain"])
    make_dataset(alice, "night-only", tags=["night"])
    make_dataset(alice, "rain-only", tags=["rain"])
    make_dataset(alice, "untagged")
    query = [("tag", "night"), ("tag", "rain")]

    def listed(mode=None):
        params = "&".join(f"{k}={v}" for k, v in query) + (f"&tag_mode={mode}" if mode else "")
        return names(alice.get(f"/api/datasets/?{params}"))

    assert listed() == listed("any") == ["both", "night-only", "rain-only"]
    assert listed("all") == ["both"]
    assert listed("not") == ["untagged"]
    assert names(alice.get("/api/datasets/?tag=night")) == ["both", "night-only"]


def test_created_by_me(alice, bob):
    mine = make_dataset(alice, "alice-made")
    theirs = make_dataset(bob, "bob-made")
    services.member_set(user=bob.user, dataset=Dataset.objects.get(pk=theirs["id"]), username="alice", role="viewer")
    assert names(alice.get("/api/datasets/")) == ["alice-made", "bob-made"]
    assert names(alice.get("/api/datasets/", {"created_by_me": "true"})) == ["alice-made"]
    assert alice.get(f"/api/datasets/{mine['id']}/").json()["created_by"] == "alice"


def test_the_openapi_schema_documents_projects(alice):
    schema = alice.get("/api/schema/", {"format": "json"}).json()
    assert {"get", "post"} <= set(schema["paths"]["/api/projects/"])
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/projects/{project_id}/"])
    parameters = {p["name"] for p in schema["paths"]["/api/datasets/"]["get"]["parameters"]}
    assert {"project", "tag", "tag_mode", "created_by_me"} <= parameters
    dataset = schema["components"]["schemas"]["Dataset"]["properties"]
    assert {"project", "project_name"} <= set(dataset)
