"""Typed custom metadata per dataset version (issue 14 item 5): a schema of fields (name, path, type, default,
values) set through the API, inherited by child versions, merged by importers, and the check frame writes run
(wrong types refused naming meta.<path>, missing values filled with the default)."""
from __future__ import annotations

import json
import re

import pytest

from frames import services
from frames.exceptions import ServiceError
from frames.models import Dataset, DatasetVersion
from frames.schema import FrameError, parse_frame
from frames.selectors.meta_schema import meta_checked, meta_schema_get, meta_schema_validator
from frames.services.meta_schema import meta_schema_merge, meta_schema_set

from .clients import api_client
from .conftest import TESTDATA_DIR

pytestmark = pytest.mark.django_db

LIGHTLY_SCHEMA = TESTDATA_DIR / "imports" / "lightly-custom-metadata" / "lightly-metadata" / "schema.as-published.json"
FIELDS = [
    {"name": "Weather", "path": "weather.description", "type": "categorical_string", "default": "nothing", "values": ["nothing", "rain", "sun"]},
    {"name": "Temperature", "path": "weather.temperature", "type": "float", "default": 0.0},
    {"name": "Pressure", "path": "weather.air_pressure", "type": "integer", "default": 0},
    {"name": "Vehicle", "path": "vehicle_id", "type": "categorical_int", "default": 0},
    {"name": "Night", "path": "night", "type": "boolean", "default": False},
    {"name": "Note", "path": "note", "type": "string", "default": None},
    {"name": "Captured", "path": "captured_at", "type": "datetime", "default": None},
    {"name": "Run", "path": "run_id", "type": "uuid", "default": None},
]


@pytest.fixture
def alice():
    return api_client("alice")


@pytest.fixture
def dataset(alice):
    response = alice.post("/api/datasets/", {"name": "typed"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def draft(dataset, alice):
    versions = alice.get(f"/api/datasets/{dataset['id']}/versions/").json()
    rows = versions["results"] if isinstance(versions, dict) else versions
    return rows[0]["id"]


def put(client, version_id, fields):
    return client.put(f"/api/versions/{version_id}/meta-schema/", {"fields": fields}, format="json")


def get(client, version_id, **params):
    response = client.get(f"/api/versions/{version_id}/meta-schema/", params)
    assert response.status_code == 200, response.content
    return response.json()


def version(pk):
    return DatasetVersion.objects.get(pk=pk)


# -- the schema through the API --------------------------------------------------------------------------------


def test_a_schema_is_set_and_read_back_with_our_type_names(alice, draft):
    response = put(alice, draft, FIELDS)
    assert response.status_code == 200, response.content
    assert get(alice, draft) == {"fields": FIELDS, "inherited_from": None}


def test_lightly_and_encord_type_names_are_stored_as_ours(alice, draft):
    published = LIGHTLY_SCHEMA.read_text()
    # The documentation's example misses a comma between two entries; the importer's lenient mode fixes that.
    lightly = json.loads(re.sub(r"}\s*\n(\s*){", r"},\n\1{", published))
    fields = [{"name": e["name"], "path": e["path"], "type": e["valueDataType"], "default": e["defaultValue"]} for e in lightly]
    encord = [{"name": n, "path": f"encord.{n}", "type": t} for n, t in
              (("flag", "boolean"), ("title", "varchar"), ("when", "datetime"), ("uid", "uuid"), ("score", "number"))]
    response = put(alice, draft, fields + encord)
    assert response.status_code == 200, response.content
    types = {f["path"]: f["type"] for f in get(alice, draft)["fields"]}
    assert types == {
        "scene": "categorical_string", "weather.description": "categorical_string", "weather.temperature": "float",
        "weather.air_pressure": "integer", "vehicle_id": "categorical_int",
        "encord.flag": "boolean", "encord.title": "string", "encord.when": "datetime", "encord.uid": "uuid", "encord.score": "float",
    }


@pytest.mark.parametrize("field, where, words", [
    ({"name": "T", "path": "t", "type": "NUMERIC_DOUBLE"}, "fields[0].type", "unknown type 'NUMERIC_DOUBLE'"),
    ({"name": "T", "path": "a..b", "type": "float"}, "fields[0].path", "not a dotted key"),
    ({"name": "T", "path": "a__b", "type": "float"}, "fields[0].path", "not a dotted key"),
    ({"name": "T", "path": "", "type": "float"}, "fields[0].path", "dotted key"),
    ({"name": "T", "path": "t", "type": "integer", "default": 1.5}, "fields[0].default", "whole number"),
    ({"name": "T", "path": "t", "type": "boolean", "default": "yes"}, "fields[0].default", "true or false"),
    ({"name": "T", "path": "t", "type": "datetime", "default": "yesterday"}, "fields[0].default", "ISO 8601"),
    ({"name": "T", "path": "t", "type": "uuid", "default": "abc"}, "fields[0].default", "UUID"),
    ({"name": "T", "path": "t", "type": "float", "values": [1.0]}, "fields[0].values", "only categorical"),
    ({"name": "T", "path": "t", "type": "categorical_int", "values": [1, "2"]}, "fields[0].values[1]", "whole number"),
    ({"name": "T", "path": "t", "type": "categorical_string", "values": ["a"], "default": "b"}, "fields[0].default", "not one of"),
    ({"name": "T", "path": "t", "type": "float", "colour": "red"}, "fields[0].colour", "unknown key"),
])
def test_a_bad_field_is_refused_naming_it_and_nothing_changes(alice, draft, field, where, words):
    assert put(alice, draft, FIELDS[:2]).status_code == 200
    response = put(alice, draft, [FIELDS[3], field])
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    expected = where.replace("fields[0]", "fields[1]")
    assert any(e["field"] == expected and words in e["message"] and "'T'" in e["message"] for e in errors), errors
    assert get(alice, draft)["fields"] == FIELDS[:2]


def test_two_fields_on_one_path_or_one_inside_another_are_refused(alice, draft):
    response = put(alice, draft, [{"name": "W", "path": "weather", "type": "string"}, FIELDS[1]])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "fields[1].path"
    assert "clashes with field 'W'" in response.json()["errors"][0]["message"]


def test_the_body_must_carry_a_list_of_fields(alice, draft):
    for body in ({}, {"fields": {"a": 1}}, [FIELDS[0]]):
        response = alice.put(f"/api/versions/{draft}/meta-schema/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["field"] == "fields"


def test_a_viewer_reads_but_may_not_set_and_a_published_version_is_frozen(alice, dataset, draft):
    bob = api_client("bob")
    services.member_set(user=alice.user, dataset=Dataset.objects.get(pk=dataset["id"]),
                        username="bob", role="viewer")
    assert put(alice, draft, FIELDS[:1]).status_code == 200
    assert get(bob, draft)["fields"] == FIELDS[:1]
    assert put(bob, draft, FIELDS).status_code == 403
    published = alice.post(f"/api/versions/{draft}/publish/", {}, format="json")
    assert published.status_code == 200, published.content
    response = put(alice, draft, FIELDS)
    assert response.status_code == 409
    assert get(alice, draft)["fields"] == FIELDS[:1]


def test_a_child_inherits_its_parents_schema_and_changes_only_its_own(alice, draft):
    assert put(alice, draft, FIELDS[:2]).status_code == 200
    snapshot = alice.post(f"/api/versions/{draft}/snapshot/", {}, format="json")
    assert snapshot.status_code == 201, snapshot.content
    child = snapshot.json()[1]["id"]
    assert get(alice, child) == {"fields": FIELDS[:2], "inherited_from": draft}
    assert put(alice, child, FIELDS[:3]).status_code == 200
    assert get(alice, child) == {"fields": FIELDS[:3], "inherited_from": None}
    assert get(alice, draft)["fields"] == FIELDS[:2]
    assert put(alice, child, []).status_code == 200
    assert get(alice, child) == {"fields": [], "inherited_from": None}


def test_seen_values_of_categorical_fields_come_most_frequent_first(alice, draft, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    assert put(alice, draft, FIELDS).status_code == 200
    weathers = ["rain", "rain", "sun", "rain", "nothing"]
    frames = [{"id": f"f{i}", "meta": {"weather": {"description": w}, "vehicle_id": i % 2},
               "sources": [{"id": "default", "uri": f"https://example.com/{i}.jpg"}]} for i, w in enumerate(weathers)]
    assert alice.post(f"/api/versions/{draft}/frames/", frames, format="json").status_code in (200, 201)
    fields = {f["path"]: f for f in get(alice, draft, seen="true")["fields"]}
    seen = fields["weather.description"]["seen"]
    assert seen[0] == {"value": "rain", "count": 3}
    assert sorted((s["value"], s["count"]) for s in seen[1:]) == [("nothing", 1), ("sun", 1)]
    assert sorted((s["value"], s["count"]) for s in fields["vehicle_id"]["seen"]) == [(0, 3), (1, 2)]
    assert "seen" not in fields["weather.temperature"]


def test_the_openapi_schema_documents_get_and_put(alice):
    schema = alice.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    operations = json.loads(schema.content)["paths"]["/api/versions/{version_id}/meta-schema/"]
    assert set(operations) >= {"get", "put"}
    assert "Replace a draft version's schema" in operations["put"]["description"]


# -- merge (importers) ------------------------------------------------------------------------------------------


def test_merge_adds_fields_joins_values_and_refuses_a_type_clash(alice, draft):
    target = version(draft)
    meta_schema_set(user=alice.user, version=target, fields=FIELDS[:1])
    merged = meta_schema_merge(user=alice.user, version=target, fields=[
        {"name": "Weather", "path": "weather.description", "type": "CATEGORICAL_STRING", "values": ["fog"]},
        {"name": "Speed", "path": "speed", "type": "NUMERIC_FLOAT", "default": 0.0},
    ])
    assert [f["path"] for f in merged["fields"]] == ["weather.description", "speed"]
    assert merged["fields"][0]["values"] == ["nothing", "rain", "sun", "fog"]
    with pytest.raises(ServiceError) as refused:
        meta_schema_merge(user=alice.user, version=target, fields=[{"name": "Speed", "path": "speed", "type": "integer"}])
    assert refused.value.errors[0]["field"] == "fields[0].type"
    assert "meta.speed as float" in refused.value.errors[0]["message"]
    assert [f["path"] for f in meta_schema_get(user=alice.user, version=target)["fields"]] == ["weather.description", "speed"]


# -- the check frame writes run ---------------------------------------------------------------------------------


def test_the_validator_fills_defaults_and_names_values_of_the_wrong_type(alice, draft):
    target = version(draft)
    meta_schema_set(user=alice.user, version=target, fields=FIELDS)
    check = meta_schema_validator(target)
    frame = {"id": "a", "meta": {"weather": {"temperature": 21.5}, "note": "ok"}}
    assert check(frame) == []
    assert frame["meta"] == {"weather": {"temperature": 21.5, "description": "nothing", "air_pressure": 0},
                             "note": "ok", "vehicle_id": 0, "night": False}
    bad = {"id": "b", "meta": {"weather": {"temperature": "warm", "description": "snow", "air_pressure": 1.5}, "night": "no",
                               "captured_at": "2024-13-01", "run_id": "not-a-uuid", "vehicle_id": True}}
    errors = {e["field"]: e["message"] for e in check(bad)}
    assert set(errors) == {"meta.weather.temperature", "meta.weather.description", "meta.weather.air_pressure",
                           "meta.night", "meta.captured_at", "meta.run_id", "meta.vehicle_id"}
    assert "must be a number, not 'warm'" in errors["meta.weather.temperature"]
    assert "'snow' is not one of" in errors["meta.weather.description"]
    good = {"id": "c", "meta": {"captured_at": "2024-05-01T12:30:00Z", "run_id": "123e4567-e89b-12d3-a456-426614174000",
                                "weather": {"description": "rain", "air_pressure": 1013, "temperature": 3}}}
    assert check(good) == []
    assert check({"id": "d", "meta": {"weather": 5}})[0] == {
        "field": "meta.weather.description", "message": "must be inside an object, but 'weather' holds 5"}


def test_a_version_without_a_schema_checks_nothing(alice, draft):
    frame = {"id": "a", "meta": {"anything": [1, 2]}}
    assert meta_schema_validator(version(draft))(frame) == []
    assert meta_checked(version(draft), parse_frame) is parse_frame
    assert frame == {"id": "a", "meta": {"anything": [1, 2]}}


def test_parsing_a_frame_with_the_check_fills_defaults_or_refuses_naming_the_field(alice, draft):
    """What frames.services.frames runs on every written frame: the API's parse_frame, then the schema's check."""
    target = version(draft)
    meta_schema_set(user=alice.user, version=target, fields=FIELDS)
    parse = meta_checked(target, parse_frame)
    frame = parse({"id": "a", "meta": {"weather": {"temperature": 4}},
                   "sources": [{"id": "default", "uri": "https://example.com/a.jpg"}]})
    assert frame["meta"]["weather"] == {"temperature": 4, "description": "nothing", "air_pressure": 0}
    assert frame["meta"]["night"] is False
    with pytest.raises(FrameError) as refused:
        parse({"id": "b", "meta": {"weather": {"temperature": "4 C"}}, "sources": [{"id": "default", "uri": "https://example.com/b.jpg"}]})
    assert refused.value.errors[0]["field"] == "meta.weather.temperature"


def test_a_stale_if_match_is_refused_with_the_schema_as_it_is_now(alice, draft):
    first = alice.get(f"/api/versions/{draft}/meta-schema/")
    etag = first.headers["ETag"]
    saved = alice.put(f"/api/versions/{draft}/meta-schema/", {"fields": FIELDS[:1]}, format="json", HTTP_IF_MATCH=etag)
    assert saved.status_code == 200 and saved.headers["ETag"] != etag
    assert alice.get(f"/api/versions/{draft}/").headers["ETag"] == saved.headers["ETag"]  # the version's ETag moved on
    stale = alice.put(f"/api/versions/{draft}/meta-schema/", {"fields": FIELDS}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412, stale.content
    assert stale.json()["current"]["fields"] == FIELDS[:1]
    assert get(alice, draft)["fields"] == FIELDS[:1]
