"""Per-dataset access, walked: every URL pattern of the project (admin/ aside) and every operation of the OpenAPI
schema, as anonymous, as a signed-in user who is not a member, as a viewer, an annotator and an owner of one
dataset, and as staff, with real ids (a dataset with a published and a draft version, frames, a member, a job,
media and preview links issued for the dataset).

What each of them should get comes from one table, `ROUTES` ("METHOD /path/{kwarg}/" -> Rule): anonymous
visitors are sent to the login page (pages) or refused (API: 401/403); a non-member gets 404 for everything of
the dataset and lists without it; a member below the rule's role gets 403; a member with it (and staff) gets
the rule's answer. A URL pattern or OpenAPI operation missing from the table fails `test_the_table_covers...`.
Every case gets a world of its own (the test's transaction is rolled back), so a DELETE breaks nothing after it.
The API is called with `Authorization: Token ...` (rest_framework.authtoken): a token carries its user's rights.
"""
from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework.authtoken.models import Token

from frames import demo, links, selectors, services
from frames.models import MediaPreview
from frames.selectors.previews import view_request
from frames.selectors.pyramids import pyramid_tile_name

from .conftest import TESTDATA_DIR

ANYONE, SIGNED_IN, VIEWER, ANNOTATOR, OWNER = "anyone", "signed in", "viewer", "annotator", "owner"
STAFF = "staff"  # staff only (shared cloud credentials)
DATAVIEW_OWNER = "dataview owner"  # the walked DataView is the owner's: only they (and staff) see it, others get 404
RANK = {VIEWER: 1, ANNOTATOR: 2, OWNER: 3}
ACTORS = ["anonymous", "outsider", VIEWER, ANNOTATOR, OWNER, "staff"]
OK_GET = (200,)
OK_FORM = (302,)  # a form that worked redirects


@dataclass(frozen=True)
class Rule:
    """Who may: ANYONE, SIGNED_IN (no dataset involved) or the lowest dataset role. `version`: which version's
    id fills {version_id}; `body`: what is sent (form data for pages; JSON for the API, where "{published}"
    becomes the published version's id); `ok`: the statuses of a user who may; `lists`: a list that shows the
    dataset (or the owner's job) to those who may see it and to nobody else."""

    need: str
    ok: tuple = OK_GET
    version: str = "draft"
    body: dict | list | None = None
    query: str = ""
    lists: bool = False
    url: object = None  # world -> URL, for the signed media links
    multipart: bool = False  # the API body is a multipart form whose bytes values are sent as files


CREDENTIAL_FORM = {"provider": "s3", "name": "walk", "delivery": "proxy", "azure_auth": "key", "anonymous": "on"}
PYRAMID = f"walk-{os.getpid()}"  # a pyramid of one tile, stored by media_files (one per test run: runs may share the storage)
CLEARML_EXAMPLE = TESTDATA_DIR / "imports" / "clearml-docs" / "frame_sources_masks_rois.example.json"
FRAME = {"id": "f9", "context_id": "ctx", "sources": [{"id": "default", "uri": "https://example.com/9.jpg"}]}


def _media(kind):
    return lambda w: {
        "source": links.source_url(w.dataset.pk, w.uri),
        "view": links.view_url(w.view_link),
        "preview": links.preview_url(w.dataset.pk, w.preview_file),
        "pyramid": links.pyramid_status_url(links.PyramidLink(w.dataset.pk, w.draft.pk, "f1", "default")),
        "tile": links.pyramid_tile_url(w.dataset.pk, PYRAMID, "jpeg").replace("{level}", "0").replace("{x}_{y}", "0_0"),
    }[kind]


ROUTES = {
    # --- pages
    "GET /healthz": Rule(ANYONE),
    "GET /login/": Rule(ANYONE, ok=(200, 302)),  # a signed-in user is sent on
    "POST /logout/": Rule(SIGNED_IN, ok=OK_FORM),
    "GET /": Rule(SIGNED_IN, lists=True),
    "GET /datasets/new/": Rule(SIGNED_IN),
    "POST /datasets/new/": Rule(SIGNED_IN, ok=OK_FORM, body={"name": "walk-created"}),
    "GET /datasets/{dataset_id}/": Rule(VIEWER),
    "GET /datasets/{dataset_id}/edit/": Rule(OWNER),
    "POST /datasets/{dataset_id}/edit/": Rule(OWNER, ok=OK_FORM, body={"name": "walk-renamed"}),
    "GET /datasets/{dataset_id}/delete/": Rule(OWNER),
    "POST /datasets/{dataset_id}/delete/": Rule(OWNER, ok=OK_FORM, body={}),
    "GET /datasets/{dataset_id}/members/": Rule(VIEWER),
    "POST /datasets/{dataset_id}/members/": Rule(OWNER, ok=OK_FORM, body={"username": "newcomer", "role": "annotator"}),
    "POST /datasets/{dataset_id}/members/{member_id}/": Rule(OWNER, ok=OK_FORM, body={"role": "annotator"}),
    "GET /datasets/{dataset_id}/members/{member_id}/remove/": Rule(OWNER),
    "POST /datasets/{dataset_id}/members/{member_id}/remove/": Rule(OWNER, ok=OK_FORM, body={}),
    "GET /versions/{version_id}/": Rule(VIEWER),
    "GET /versions/{version_id}/frames/count/": Rule(VIEWER, query="label=car"),
    "GET /versions/{version_id}/frames/labels/": Rule(VIEWER),
    "GET /versions/{version_id}/frames/position/": Rule(VIEWER, query="cursor=WyJ2MCIsMCwiZCJd"),
    "GET /versions/{version_id}/frames/export/": Rule(VIEWER),
    "GET /versions/{version_id}/split/": Rule(VIEWER, query="a_frame_query=meta.weather:sunny&b_roi_query=car"),
    "GET /versions/{version_id}/context/": Rule(VIEWER, query="context=ctx"),
    "GET /versions/{version_id}/context/frames/": Rule(VIEWER, query="context=ctx"),
    "GET /versions/{version_id}/frame/{frame_id}": Rule(VIEWER),
    "GET /versions/{version_id}/frames/{frame_id}/neighbour": Rule(VIEWER, query="direction=previous&step=10&scope=context"),
    "GET /versions/{version_id}/stats/": Rule(VIEWER),
    "GET /versions/{version_id}/stats/labels/": Rule(VIEWER),
    "GET /versions/{version_id}/stats/meta/": Rule(VIEWER, query="key=weather"),
    "GET /versions/{version_id}/metadata/": Rule(VIEWER),
    "POST /versions/{version_id}/metadata/": Rule(OWNER, ok=OK_FORM, body={"metadata": '{"walked": true}'}),
    "GET /versions/{version_id}/info/": Rule(VIEWER),
    "GET /versions/{version_id}/edit/": Rule(OWNER),
    "POST /versions/{version_id}/edit/": Rule(OWNER, ok=OK_FORM, body={"name": "walk-renamed"}),
    "GET /versions/{version_id}/child/": Rule(OWNER, version="published"),
    "POST /versions/{version_id}/child/": Rule(OWNER, ok=OK_FORM, version="published", body={"name": "walk-child"}),
    "GET /versions/{version_id}/publish/": Rule(OWNER),
    "POST /versions/{version_id}/publish/": Rule(OWNER, ok=OK_FORM, body={"name": "walk-published"}),
    "GET /versions/{version_id}/snapshot/": Rule(OWNER),
    "POST /versions/{version_id}/snapshot/": Rule(OWNER, ok=OK_FORM, body={"name": "walk-snapshot"}),
    "GET /versions/{version_id}/delete/": Rule(OWNER),
    "POST /versions/{version_id}/delete/": Rule(OWNER, ok=OK_FORM, body={}),
    # "Annotate in a new draft": an owner's POST makes a draft child of the published version (a draft just redirects).
    "POST /versions/{version_id}/annotate/": Rule(OWNER, ok=OK_FORM, version="published", body={"frame": "f1"}),
    "GET /versions/{version_id}/import/": Rule(ANNOTATOR),
    "GET /dataviews/": Rule(SIGNED_IN),
    "GET /jobs/": Rule(SIGNED_IN, lists=True),
    "GET /jobs/{job_id}/": Rule(VIEWER),
    "GET /media/source/": Rule(VIEWER, url=_media("source")),
    "GET /media/view/": Rule(VIEWER, url=_media("view")),
    "GET /media/pyramid/": Rule(VIEWER, url=_media("pyramid")),
    "GET /media/pyramids/{pyramid}/{level}/{x}_{y}.{format}": Rule(VIEWER, url=_media("tile")),
    "GET /media/{path}": Rule(VIEWER, url=_media("preview")),
    # --- API outside the schema
    "GET /api/": Rule(SIGNED_IN),
    "GET /api/schema/": Rule(SIGNED_IN),
    "GET /api/docs/": Rule(SIGNED_IN),
    # --- API operations of the schema
    "POST /api/auth/token/": Rule(ANYONE, ok=(400,), body={}),  # no user name and password: refused, not 401
    "GET /api/projects/": Rule(SIGNED_IN),
    "POST /api/projects/": Rule(SIGNED_IN, ok=(201,), body={"name": "walk-project"}),
    # The walked dataset's project was made by its owner: members see it, only its creator (and staff) change it.
    "GET /api/projects/{project_id}/": Rule(VIEWER),
    "PATCH /api/projects/{project_id}/": Rule(OWNER, body={"name": "walk-renamed"}),
    "DELETE /api/projects/{project_id}/": Rule(OWNER, ok=(409,)),  # it holds the dataset: refused
    "GET /api/datasets/": Rule(SIGNED_IN, lists=True),
    "POST /api/datasets/": Rule(SIGNED_IN, ok=(201,), body={"name": "walk-created"}),
    "GET /api/datasets/{dataset_id}/": Rule(VIEWER),
    "PATCH /api/datasets/{dataset_id}/": Rule(OWNER, body={"description": "walked"}),
    "DELETE /api/datasets/{dataset_id}/": Rule(OWNER, ok=(204,)),
    "GET /api/datasets/{dataset_id}/members/": Rule(VIEWER),
    "POST /api/datasets/{dataset_id}/members/": Rule(OWNER, ok=(201,), body={"username": "newcomer", "role": "viewer"}),
    "PATCH /api/datasets/{dataset_id}/members/{member_id}/": Rule(OWNER, body={"role": "annotator"}),
    "DELETE /api/datasets/{dataset_id}/members/{member_id}/": Rule(OWNER, ok=(204,)),
    "GET /api/datasets/{dataset_id}/versions/": Rule(VIEWER),
    "POST /api/datasets/{dataset_id}/versions/": Rule(OWNER, ok=(201,), body={"parent": "{published}", "name": "walk-child"}),
    "GET /api/dataviews/": Rule(SIGNED_IN),
    "POST /api/dataviews/": Rule(VIEWER, ok=(201,), body={"queries": [{"version": "{published}"}]}),  # who sees the version
    "GET /api/dataviews/{dataview_id}/": Rule(DATAVIEW_OWNER),
    "PATCH /api/dataviews/{dataview_id}/": Rule(DATAVIEW_OWNER, body={"name": "walked"}),
    "DELETE /api/dataviews/{dataview_id}/": Rule(DATAVIEW_OWNER, ok=(204,)),
    "GET /api/dataviews/{dataview_id}/frames/": Rule(DATAVIEW_OWNER),
    "GET /api/dataviews/{dataview_id}/count/": Rule(DATAVIEW_OWNER),
    "GET /api/jobs/": Rule(SIGNED_IN, lists=True),
    "GET /api/jobs/{job_id}/": Rule(VIEWER),
    "POST /api/jobs/{job_id}/cancel/": Rule(OWNER),
    "GET /api/versions/{version_id}/": Rule(VIEWER),
    "PATCH /api/versions/{version_id}/": Rule(OWNER, body={"description": "walked"}),
    "DELETE /api/versions/{version_id}/": Rule(OWNER, ok=(204,)),
    "GET /api/versions/{version_id}/contexts/": Rule(VIEWER),
    "POST /api/versions/{version_id}/delete-frames/": Rule(ANNOTATOR, body={"ids": ["f2"]}),
    "GET /api/versions/{version_id}/frames/": Rule(VIEWER),
    "POST /api/versions/{version_id}/frames/": Rule(ANNOTATOR, ok=(201,), body=[FRAME]),
    "PATCH /api/versions/{version_id}/frames/": Rule(ANNOTATOR, body=[{"id": "f1", "meta": {"walked": True}}]),
    "GET /api/versions/{version_id}/frames/{frame_id}/": Rule(VIEWER),
    "PUT /api/versions/{version_id}/frames/{frame_id}/": Rule(ANNOTATOR, body={**FRAME, "id": "f1"}),
    "PATCH /api/versions/{version_id}/frames/{frame_id}/": Rule(ANNOTATOR, body={"meta": {"walked": True}}),
    "DELETE /api/versions/{version_id}/frames/{frame_id}/": Rule(ANNOTATOR, ok=(204,)),
    "POST /api/versions/{version_id}/imports/": Rule(ANNOTATOR, ok=(202,), body={"format": "clearml", "dry_run": True, "path": str(CLEARML_EXAMPLE)}),
    "POST /api/versions/{version_id}/uploads/": Rule(ANNOTATOR, ok=(201,), body={"file": b"\x89PNG walked"}, multipart=True),
    "GET /api/versions/{version_id}/export/": Rule(VIEWER, query="format=coco"),
    "GET /api/versions/{version_id}/meta-schema/": Rule(VIEWER, query="seen=true"),
    "PUT /api/versions/{version_id}/meta-schema/": Rule(ANNOTATOR, body={"fields": [{"name": "Weather", "path": "weather", "type": "categorical_string"}]}),
    "GET /api/versions/{version_id}/previews/": Rule(VIEWER),
    "POST /api/versions/{version_id}/previews/regenerate/": Rule(ANNOTATOR, ok=(202,)),
    "POST /api/versions/{version_id}/publish/": Rule(OWNER, body={}),
    "POST /api/versions/{version_id}/snapshot/": Rule(OWNER, ok=(201,), body={}),
    "GET /api/versions/{version_id}/stats/": Rule(VIEWER),
    "GET /settings/cloud-access/": Rule(SIGNED_IN),
    "GET /settings/cloud-access/new/": Rule(SIGNED_IN),
    "POST /settings/cloud-access/new/": Rule(SIGNED_IN, ok=OK_FORM, body=CREDENTIAL_FORM),
    "GET /settings/cloud-access/{credential_id}/edit/": Rule(STAFF),  # the walk's row is shared: staff change it
    "POST /settings/cloud-access/{credential_id}/edit/": Rule(STAFF, ok=OK_FORM, body={**CREDENTIAL_FORM, "shared": "on"}),
    "POST /settings/cloud-access/{credential_id}/delete/": Rule(STAFF, ok=OK_FORM, body={}),
    "POST /settings/cloud-access/{credential_id}/test/": Rule(SIGNED_IN, body={}),
    "GET /api/cloud-credentials/": Rule(SIGNED_IN),
    "POST /api/cloud-credentials/": Rule(SIGNED_IN, ok=(201,), body={"provider": "s3", "name": "walk", "anonymous": True}),
    "GET /api/cloud-credentials/{credential_id}/": Rule(SIGNED_IN),  # a shared row: everyone reads it
    "PATCH /api/cloud-credentials/{credential_id}/": Rule(STAFF, body={"name": "walked"}),
    "DELETE /api/cloud-credentials/{credential_id}/": Rule(STAFF, ok=(204,)),
    "POST /api/cloud-credentials/{credential_id}/test/": Rule(SIGNED_IN),
}


# ------------------------------------------------------------------------------------------------ coverage
def url_templates(patterns=None, prefix="") -> set[str]:
    """Every URL pattern of the project as "/path/{kwarg}/", admin/ aside."""
    found = set()
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(entry.pattern))
        if route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            found |= url_templates(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.add("/" + route)
    return found


def openapi_operations(schema: dict) -> set[str]:
    methods = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
    return {f"{method.upper()} {route}" for route, item in schema["paths"].items() for method in item if method in methods}


def uncovered(templates: set[str], operations: set[str], table=ROUTES) -> dict[str, list[str]]:
    """What the table has no rule for, and the rules that match nothing any more."""
    routes = {key.split(" ", 1)[1] for key in table}
    return {
        "url patterns without a rule": sorted(templates - routes),
        "OpenAPI operations without a rule": sorted(operations - set(table)),
        "rules for routes that do not exist": sorted(routes - templates),
    }


@pytest.mark.django_db
def test_the_table_covers_every_url_pattern_and_openapi_operation(admin_client):
    response = admin_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    operations = openapi_operations(json.loads(response.content))
    assert len(operations) > 25 and "PATCH /api/versions/{version_id}/frames/{frame_id}/" in operations
    assert uncovered(url_templates(), operations) == {key: [] for key in uncovered(set(), set())}


def test_a_new_route_or_operation_without_a_rule_is_reported():
    extra = [path("datasets/<str:dataset_id>/shiny/", lambda request: None)]
    operations = {key for key in ROUTES if " /api/" in key} | {"POST /api/jobs/{job_id}/retry/"}
    missing = uncovered(url_templates() | url_templates(extra), operations)
    assert missing["url patterns without a rule"] == ["/datasets/{dataset_id}/shiny/"]
    assert missing["OpenAPI operations without a rule"] == ["POST /api/jobs/{job_id}/retry/"]


# --------------------------------------------------------------------------------------------------- world
@pytest.fixture(scope="module")
def media_files(media_roots):
    """A source file under a media root and a worker-made preview, for the signed media links."""
    source = Path(media_roots) / "walk-source.jpg"
    source.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    name = default_storage.save(f"previews/wa/walk-{id(source)}.jpg", ContentFile(b"\xff\xd8\xff\xe0 preview"))
    tile = default_storage.save(pyramid_tile_name(PYRAMID, 0, 0, 0, "jpeg"), ContentFile(b"\xff\xd8\xff\xe0 tile"))
    yield SimpleNamespace(uri=source.as_uri(), preview_file=name)
    default_storage.delete(name)
    default_storage.delete(tile)


def make_world(media_files) -> SimpleNamespace:
    """Users of every kind, and a dataset owned by `owner`: v1 (published, frames f1..f3) and its draft child,
    a viewer, an annotator and a bystander member, a job of the owner's, a large rendition made already."""
    users = {name: get_user_model().objects.create_user(name) for name in ("outsider", VIEWER, ANNOTATOR, OWNER, "bystander", "newcomer")}
    users["staff"] = get_user_model().objects.create_user("staff", is_staff=True)
    owner = users[OWNER]
    project = services.project_create(user=owner, name="walked project")
    dataset = services.dataset_create(user=owner, name="walked dataset", project=project.pk)
    frames = [{"id": f"f{i}", "context_id": "ctx", "timestamp": i, "meta": {"weather": "sunny"},
               "sources": [{"id": "default", "uri": media_files.uri}], "rois": [{"labels": ["car"], "poly": [0, 0, 5, 0, 5, 5]}]}
              for i in (1, 2, 3)]
    services.frames_add(user=owner, version=dataset.versions.get(), frames=frames)
    published, draft = services.version_snapshot(user=owner, version=dataset.versions.get(), name="v1")
    for name in (VIEWER, ANNOTATOR):
        services.member_set(user=owner, dataset=dataset, username=name, role=name)
    bystander = services.member_set(user=owner, dataset=dataset, username="bystander", role=VIEWER)
    job = services.job_start(user=owner, kind="stats", key="walk", version=draft, subject="walk", task=None)
    # A shared credential for a server that is not running (the Test button answers "connection refused").
    credential = services.credential_create(user=users["staff"], data={
        "provider": "s3", "name": "walk", "host": "127.0.0.1:9", "anonymous": True, "use_tls": False, "shared": True})
    view_link = links.ViewLink(dataset.pk, media_files.uri, "image", 0, 0)
    wanted = view_request(view_link)
    MediaPreview.objects.create(key=wanted.key, kind=wanted.kind, uri=wanted.uri, media=wanted.media, max_size=wanted.max_size,
                                status=MediaPreview.DONE, file=media_files.preview_file, content_type="image/jpeg")
    dataview = services.dataview_create(user=owner, data={"queries": [{"version": draft.pk, "roi_query": "car"}]})
    return SimpleNamespace(users=users, dataset=dataset, published=published, draft=draft, member=bystander, job=job, credential=credential,
                           dataview=dataview, uri=media_files.uri, preview_file=media_files.preview_file, view_link=view_link)


def fill(template: str, rule: Rule, world) -> str:
    if rule.url:
        return rule.url(world)
    version = world.published if rule.version == "published" else world.draft
    values = {"dataset_id": world.dataset.pk, "version_id": version.pk, "frame_id": "f1", "member_id": world.member.pk,
              "job_id": world.job.pk, "credential_id": world.credential.pk, "project_id": world.dataset.project_id,
              "dataview_id": world.dataview.pk}
    url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
    return f"{url}?{rule.query}" if rule.query else url


def client_for(actor: str, world, *, api: bool) -> Client:
    """A browser session for pages; for the API, the user's token and no session."""
    if actor == "anonymous":
        return Client()
    user = world.users[actor]
    if api:
        return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client = Client()
    client.force_login(user)
    return client


def _named_file(name: str, content: bytes) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = f"{name}.bin"
    return upload


def send(client: Client, method: str, url: str, rule: Rule, world, *, api: bool):
    body = rule.body
    if api and rule.multipart:
        return client.post(url, {name: _named_file(name, value) for name, value in body.items()})
    if api:
        payload = json.dumps(body).replace("{published}", world.published.pk) if body is not None else ""
        return client.generic(method, url, payload, content_type="application/json")
    if method == "POST":
        return client.post(url, body or {})
    return client.get(url)


# ---------------------------------------------------------------------------------------------------- walk
def text(response) -> str:
    """The answer's body (streamed or not: the Frames tab and exports stream), as text."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace")


def expected(rule: Rule, actor: str, *, api: bool) -> tuple:
    if rule.need == ANYONE:
        return rule.ok
    if actor == "anonymous":
        return (401, 403) if api else ("login",)
    if rule.need == SIGNED_IN or actor == "staff":
        return rule.ok
    if rule.need == STAFF:
        return (403,)
    if rule.need == DATAVIEW_OWNER:
        return rule.ok if actor == OWNER else (404,)
    if actor == "outsider":
        return (404,)
    return rule.ok if RANK[actor] >= RANK[rule.need] else (403,)


CASES = [pytest.param(key, actor, id=f"{key} as {actor}") for key in ROUTES for actor in ACTORS]


@pytest.mark.django_db
@pytest.mark.parametrize("key,actor", CASES)
def test_access_walk(key, actor, media_files):
    method, template = key.split(" ", 1)
    rule, api = ROUTES[key], template.startswith("/api/")
    world = make_world(media_files)
    url = fill(template, rule, world)
    response = send(client_for(actor, world, api=api), method, url, rule, world, api=api)
    body = text(response)
    want = expected(rule, actor, api=api)
    if want == ("login",):
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), (response.status_code, body[:300])
    else:
        assert response.status_code in want, f"{method} {url} as {actor}: {response.status_code}, expected {want}: {body[:400]}"
    if rule.lists and actor != "anonymous":
        hidden = [world.job.pk] if "/jobs/" in template else [world.dataset.pk]
        shown = [value for value in hidden if value in body]
        if actor in ("outsider", VIEWER, ANNOTATOR) and "/jobs/" in template:
            assert shown == [], f"{actor} sees another user's job in {template}"  # jobs lists show one's own jobs
        elif actor == "outsider":
            assert shown == [], f"a non-member sees the dataset in {template}"
        elif actor in (OWNER, "staff"):
            assert shown == hidden, f"{actor} does not see the dataset in {template}"


# A new DataView's access is the versions its body names: a malformed body (400) comes before any version.
API_WRITES = [key for key, rule in ROUTES.items() if key.split(" ")[1].startswith("/api/") and not key.startswith("GET ") and rule.need in RANK
              and key != "POST /api/dataviews/"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", API_WRITES)
def test_a_non_member_gets_404_whatever_the_body(key, media_files):
    """Access is decided before the body is read: a non-member learns nothing from a malformed request."""
    method, template = key.split(" ", 1)
    world = make_world(media_files)
    response = client_for("outsider", world, api=True).generic(method, fill(template, ROUTES[key], world), "{not json",
                                                                content_type="application/json")
    assert response.status_code == 404, text(response)[:300]


@pytest.mark.django_db
def test_a_token_and_a_session_of_one_user_get_the_same_answers(media_files):
    world = make_world(media_files)
    for actor in ("outsider", VIEWER, OWNER):
        by_token, by_session = client_for(actor, world, api=True), client_for(actor, world, api=False)
        for method, template in (("GET", "/api/datasets/{dataset_id}/"), ("PATCH", "/api/versions/{version_id}/")):
            rule = ROUTES[f"{method} {template}"]
            url = fill(template, rule, world)
            answers = [send(client, method, url, rule, world, api=True).status_code for client in (by_token, by_session)]
            assert answers[0] == answers[1] and answers[0] in expected(rule, actor, api=True), (actor, method, answers)


# ---------------------------------------------------------------------------------------------------- demo
@pytest.mark.django_db
def test_the_demo_dataset_belongs_to_admin_and_a_plain_user_does_not_see_it(admin_user, django_user_model, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HYPERDATA_MEDIA_ROOTS = [*settings.HYPERDATA_MEDIA_ROOTS, str(tmp_path / "demo")]
    settings.HYPERDATA_PREVIEWS_AUTO = False
    info = demo.ensure_demo(stdout=io.StringIO())
    owners = [m.user.username for m in selectors.members_list(user=admin_user, dataset=selectors.dataset_get(user=admin_user, dataset_id=info.dataset_id)) if m.role == OWNER]
    assert owners == ["admin"]
    plain = django_user_model.objects.create_user("plain")
    client = Client()
    client.force_login(plain)
    assert demo.DEMO_NAME not in client.get("/").content.decode()
    assert client.get(f"/datasets/{info.dataset_id}/").status_code == 404
    assert client.get("/api/datasets/").json()["count"] == 0
