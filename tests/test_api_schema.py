"""The OpenAPI schema: valid, generated without warnings, the frame typed from frames/schema.py, and what the API
really answers conforms to it (every seed frame, previews a worker made or could not make, 400 and 412 bodies)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from drf_spectacular.validation import validate_schema
from jsonschema import Draft4Validator
from pydantic import BaseModel

from frames import schema as wire

from .seed_frames import seed_frames
from .clients import api_client

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[1]
FRAMES = "/api/versions/{version_id}/frames/"
FRAME = "/api/versions/{version_id}/frames/{frame_id}/"
CONTEXTS = "/api/versions/{version_id}/contexts/"
WAIT_SECONDS = 120


@pytest.fixture
def api():
    return api_client("schema-user")


@pytest.fixture
def openapi(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def draft(api):
    dataset = api.post("/api/datasets/", {"name": "schema"}, format="json").json()
    return api.get(f"/api/datasets/{dataset['id']}/versions/").json()["results"][0]["id"]


# -- checking bodies against the schema ------------------------------------------------------------------------

def as_json_schema(node):
    """OpenAPI 3.0 schema objects in JSON Schema's words: `nullable: true` also admits null."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.get("nullable") is True:
        del node["nullable"]
        return {"anyOf": [node, {"type": "null"}]}
    return node


def body_schema(openapi, path, method, status=None):
    """The JSON schema of an operation's request body (status None) or of its response with that status."""
    operation = openapi["paths"][path][method]
    content = operation["requestBody"]["content"] if status is None else operation["responses"][str(status)]["content"]
    return content["application/json"]["schema"]


def schema_errors(openapi, schema, body) -> list[str]:
    """Why `body` does not conform to `schema`, its $refs resolved against the schema's components."""
    validator = Draft4Validator(as_json_schema({**schema, "components": openapi["components"]}))
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)]


def assert_conforms(openapi, path, method, response):
    """The response's body is what the schema says this operation answers with this status."""
    errors = schema_errors(openapi, body_schema(openapi, path, method, response.status_code), response.json())
    assert not errors, f"{method.upper()} {path} {response.status_code}: " + "; ".join(errors[:10])


def resolve(openapi, schema):
    while "$ref" in schema or "allOf" in schema:
        schema = schema["allOf"][0] if "allOf" in schema else openapi["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


# -- the schema itself ---------------------------------------------------------------------------------------------

def test_schema_generates_without_warnings_and_is_valid_openapi(openapi, tmp_path):
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    validate_schema(openapi)  # what --validate does (the OpenAPI 3.0 specification's JSON schema), on the served one


def test_the_frame_is_typed_field_by_field(openapi):
    components = openapi["components"]["schemas"]
    frame = components["Frame"]
    assert {"saved", "saved_in_version", "dataset", "id", "sources", "rois"} <= set(frame["required"])
    assert frame["additionalProperties"] is False and components["FrameInput"]["additionalProperties"] is False

    source = resolve(openapi, frame["properties"]["sources"]["items"])
    assert {"id", "uri", "content_type", "width", "height", "timestamp", "meta", "masks", "preview",
            "preview_status", "preview_error"} <= set(source["properties"])
    assert source["required"] == ["uri"] and source["additionalProperties"] is True  # unknown keys round-trip
    assert source["properties"]["width"]["maximum"] == wire.INT32 and source["properties"]["width"]["minimum"] == 0
    preview = resolve(openapi, source["properties"]["preview"])
    assert preview["properties"]["generated"]["type"] == "boolean"
    mask = resolve(openapi, source["properties"]["masks"]["items"])
    assert {"id", "uri", "preview", "preview_status"} <= set(mask["properties"])

    roi = resolve(openapi, frame["properties"]["rois"]["items"])
    labels = roi["properties"]["labels"]
    assert labels["type"] == "array" and labels["items"] == {"type": "string", "minLength": 1, "maxLength": wire.LABEL_LIMIT}
    confidence = roi["properties"]["confidence"]
    assert (confidence["type"], confidence["minimum"], confidence["maximum"], confidence["nullable"]) == ("number", 0, 1, True)
    assert roi["properties"]["poly"]["items"]["type"] == "number"
    assert resolve(openapi, roi["properties"]["mask"])["properties"]["value"] == {
        "type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 4}

    assert frame["properties"]["timestamp"] == {"type": "integer", "minimum": 0, "maximum": wire.INT64}
    input_source = resolve(openapi, components["FrameInput"]["properties"]["sources"]["items"])
    assert "preview_status" not in input_source["properties"]  # what clients send has no server fields


def test_every_frame_component_is_its_pydantic_model(openapi):
    """The components are made from the models' own JSON schemas, so a field added to a model in
    frames/schema.py shows up in the API schema without touching the API code."""
    components = openapi["components"]["schemas"]
    models = [m for m in vars(wire).values() if isinstance(m, type) and issubclass(m, BaseModel) and m.__name__ in components]
    assert {"Frame", "FrameInput", "FrameSource", "Source", "FrameMask", "Mask", "Roi", "RoiMask", "FrameUpdate"} <= {
        m.__name__ for m in models}
    for model in models:
        expected = model.model_json_schema(mode="serialization")
        assert set(components[model.__name__]["properties"]) == set(expected["properties"]), model.__name__
        assert set(components[model.__name__].get("required", [])) == set(expected.get("required", [])), model.__name__


def test_frame_writes_document_their_bodies(openapi):
    add = body_schema(openapi, FRAMES, "post")
    assert [s.get("type") or s["$ref"] for s in resolve(openapi, add)["anyOf"]] == ["array", "#/components/schemas/FramesToAdd"]
    assert set(openapi["paths"][FRAMES]["post"]["requestBody"]["content"]) == {"application/json"}
    assert body_schema(openapi, FRAME, "put") == {"$ref": "#/components/schemas/FrameInput"}
    update = resolve(openapi, body_schema(openapi, FRAMES, "patch"))
    assert update["anyOf"][0]["items"] == {"$ref": "#/components/schemas/FrameUpdate"}
    assert openapi["components"]["schemas"]["FrameUpdate"]["required"] == ["id"]
    assert "required" not in resolve(openapi, body_schema(openapi, FRAME, "patch"))
    for path, method, status, name in [(FRAMES, "patch", 412, "FramesStale"), (FRAME, "put", 412, "FrameStale"),
                                       (FRAME, "get", 200, "Frame"), (FRAMES, "post", 400, "FramesInvalid")]:
        assert body_schema(openapi, path, method, status) == {"$ref": f"#/components/schemas/{name}"}


def test_request_schemas_admit_the_seed_frames_and_refuse_what_the_api_refuses(openapi):
    add = body_schema(openapi, FRAMES, "post")
    assert schema_errors(openapi, add, list(seed_frames().values())) == []
    assert schema_errors(openapi, add, {"frames": list(seed_frames().values())}) == []
    assert schema_errors(openapi, add, {"colour": "red"})
    assert schema_errors(openapi, add, [{"id": "no-sources"}])
    assert schema_errors(openapi, add, [{"sources": [{"uri": "a.jpg"}], "colour": "red"}])  # unknown top-level key
    assert schema_errors(openapi, add, [{"sources": [{"uri": "a.jpg"}], "rois": [{"confidence": 1.5}]}])
    assert schema_errors(openapi, body_schema(openapi, FRAMES, "patch"), [{"meta": {"a": 1}}])  # no id


# -- real answers conform -------------------------------------------------------------------------------------------

def test_seed_frames_read_back_conform(api, openapi, draft):
    frames = list(seed_frames().values())
    written = api.post(f"/api/versions/{draft}/frames/", frames, format="json")
    assert written.status_code == 201, written.json()
    assert_conforms(openapi, FRAMES, "post", written)

    for frame_id in written.json()["ids"]:
        shown = api.get(f"/api/versions/{draft}/frames/{frame_id}/")
        assert shown.status_code == 200
        assert_conforms(openapi, FRAME, "get", shown)
    page = api.get(f"/api/versions/{draft}/frames/")
    assert len(page.json()["results"]) == len(written.json()["ids"])
    assert_conforms(openapi, FRAMES, "get", page)
    contexts = api.get(f"/api/versions/{draft}/contexts/")
    assert contexts.json()["results"]
    assert_conforms(openapi, CONTEXTS, "get", contexts)

    # The checks saw the server's own fields: no worker ran, so previews of sources and masks are pending.
    sources = [source for frame in page.json()["results"] for source in frame["sources"]]
    assert "pending" in {source.get("preview_status") for source in sources}
    assert "pending" in {mask.get("preview_status") for source in sources for mask in source.get("masks") or []}


def test_error_bodies_and_partial_writes_conform(api, openapi, draft):
    frames_url = f"/api/versions/{draft}/frames/"
    good = {"id": "good", "sources": [{"uri": "https://example.com/a.jpg"}], "rois": [{"labels": ["car"], "poly": [0, 0, 5, 5]}]}
    bad = {"id": "bad", "sources": [{"uri": "https://example.com/b.jpg"}], "rois": [{"poly": [1, 2, 3]}]}

    not_frames = api.post(frames_url, {"colour": "red"}, format="json")
    assert not_frames.status_code == 400 and not_frames.json()["errors"][0]["field"] == "frames"
    assert_conforms(openapi, FRAMES, "post", not_frames)
    bad_put = api.put(f"{frames_url}bad/", bad, format="json")
    assert bad_put.status_code == 400 and bad_put.json()["errors"][0]["field"] == "frames[0].rois[0].poly"
    assert_conforms(openapi, FRAME, "put", bad_put)

    invalid = api.post(frames_url, [good, bad], format="json")
    assert invalid.status_code == 400 and invalid.json()["failed"][0]["id"] == "bad"
    assert_conforms(openapi, FRAMES, "post", invalid)

    partial = api.post(f"{frames_url}?partial=true", {"frames": [good, bad]}, format="json")
    assert partial.status_code == 201 and partial.json()["failed"][0]["errors"][0]["field"] == "rois[0].poly"
    assert_conforms(openapi, FRAMES, "post", partial)

    read = api.get(f"{frames_url}good/")
    etag, saved = read["ETag"], read.json()["saved"]
    change = {"meta": {"by": "a"}}
    assert schema_errors(openapi, body_schema(openapi, FRAME, "patch"), change) == []
    patched = api.patch(f"{frames_url}good/", change, format="json", HTTP_IF_MATCH=etag)
    assert patched.status_code == 200 and patched.json()["meta"] == {"by": "a"}
    assert_conforms(openapi, FRAME, "patch", patched)

    replacement = {**read.json(), "meta": {"by": "b"}}  # a frame read from the API, sent back as it is
    assert schema_errors(openapi, body_schema(openapi, FRAME, "put"), replacement) == []
    stale_put = api.put(f"{frames_url}good/", replacement, format="json", HTTP_IF_MATCH=etag)
    assert stale_put.status_code == 412 and stale_put.json()["current"]["meta"] == {"by": "a"}
    assert_conforms(openapi, FRAME, "put", stale_put)
    stale_delete = api.delete(f"{frames_url}good/", HTTP_IF_MATCH=etag)
    assert stale_delete.status_code == 412
    assert_conforms(openapi, FRAME, "delete", stale_delete)

    batch = [{"id": "good", "saved": saved, "meta": {"by": "c"}}]
    assert schema_errors(openapi, body_schema(openapi, FRAMES, "patch"), batch) == []
    stale_batch = api.patch(frames_url, batch, format="json")
    assert stale_batch.status_code == 412 and stale_batch.json()["stale"] == ["good"]
    assert_conforms(openapi, FRAMES, "patch", stale_batch)
    batch[0]["saved"] = patched.json()["saved"]
    updated = api.patch(frames_url, {"frames": batch}, format="json")
    assert updated.status_code == 200 and updated.json()["replaced"] == 1
    assert_conforms(openapi, FRAMES, "patch", updated)


@pytest.mark.django_db(transaction=True)
def test_previews_a_worker_made_or_could_not_make_conform(api, openapi, draft, celery_worker_process, testdata, media_roots):
    corrupt = media_roots / "schema-corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n but no image after the signature")
    photo = testdata / "masks/labelme-voc/JPEGImages/2011_000003.jpg"
    mask = testdata / "masks/labelme-voc/SegmentationClass/2011_000003.png"
    frame = {"id": "shown", "context_id": "schema", "sources": [
        {"id": "photo", "uri": f"file://{photo}", "masks": [{"id": "class", "uri": f"file://{mask}", "content_type": "image/png"}]},
        {"id": "broken", "uri": f"file://{corrupt}", "content_type": "image/png"},
    ], "rois": [{"labels": ["person"], "sources": ["photo"], "mask": {"id": "class", "value": [192, 128, 128]}}]}
    assert api.post(f"/api/versions/{draft}/frames/", [frame], format="json").status_code == 201

    deadline = time.monotonic() + WAIT_SECONDS
    while api.get(f"/api/versions/{draft}/previews/").json()["pending"]:
        assert time.monotonic() < deadline, "previews still pending"
        time.sleep(0.5)

    shown = api.get(f"/api/versions/{draft}/frames/shown/")
    photo_source, broken_source = shown.json()["sources"]
    assert photo_source["preview"]["generated"] is True and photo_source["masks"][0]["preview"]["generated"] is True
    assert photo_source["width"] and photo_source["height"]  # measured by the worker
    assert broken_source["preview_status"] == "failed" and broken_source["preview_error"]
    assert_conforms(openapi, FRAME, "get", shown)
    assert_conforms(openapi, FRAMES, "get", api.get(f"/api/versions/{draft}/frames/"))
    assert_conforms(openapi, CONTEXTS, "get", api.get(f"/api/versions/{draft}/contexts/"))


def test_a_list_of_changes_conforms(api, openapi, draft):
    """With ?changed= each frame carries `change` (schemathesis' coverage phase found it undocumented)."""
    assert api.post(f"/api/versions/{draft}/frames/", list(seed_frames().values())[:2], format="json").status_code == 201
    changes = api.get(f"/api/versions/{draft}/frames/", {"changed": "any"})
    assert {frame["change"] for frame in changes.json()["results"]} == {"added"}
    assert_conforms(openapi, FRAMES, "get", changes)
