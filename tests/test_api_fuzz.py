"""Hostile input: schemathesis sends generated requests, valid and invalid, to every operation of the OpenAPI schema,
as a dataset's owner and as its viewer (token auth), with the ids of real objects in the paths so the requests
reach the handlers. No answer may be a 5xx, every status must be one the operation documents, and every body must
conform to the documented schema.

Sized for CI: a few derandomized examples per operation (the same requests every run), in-process through
Django's WSGI application. HYPERDATA_FUZZ_EXAMPLES raises the number for a longer hunt.
"""
import os
from types import SimpleNamespace

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from frames import services
from hyperdata.wsgi import application

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("HYPERDATA_FUZZ_EXAMPLES") or 5)
# The coverage phase (every boundary of every parameter: ~150 requests for a list with many filters) runs when
# asked for: HYPERDATA_FUZZ_PHASES=examples,coverage,fuzzing.
PHASES = (os.environ.get("HYPERDATA_FUZZ_PHASES") or "examples,fuzzing").split(",")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application
schema.config.phases.update(phases=PHASES)
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def world(fuzz_settings, django_user_model):
    """A dataset with a draft of a few frames, its owner and a viewer, and one of each other object a path names."""
    owner = django_user_model.objects.create(username="fuzz-owner")  # no password: hashing one takes a second
    viewer = django_user_model.objects.create(username="fuzz-viewer")
    project = services.project_create(user=owner, name="fuzz project")
    dataset = services.dataset_create(user=owner, name="fuzz dataset", project=project.pk)
    draft = dataset.versions.get()
    frames = [{"id": f"f{i}", "context_id": "ctx", "timestamp": i, "meta": {"weather": "sunny", "speed": i * 10},
               "sources": [{"id": "default", "uri": f"s3://bucket/f{i}.jpg"}],
               "rois": [{"labels": ["car"], "poly": [0, 0, 5, 0, 5, 5], "confidence": 0.5}, {"labels": ["night"]}]}
              for i in (1, 2, 3)]
    services.frames_add(user=owner, version=draft, frames=frames)
    member = services.member_set(user=owner, dataset=dataset, username=viewer.username, role="viewer")
    world = SimpleNamespace(owner=owner, viewer=viewer, project=project, dataset=dataset, draft=draft, member=member,
                            own={user.pk: _own_objects(user, draft) for user in (owner, viewer)}, answers=[])
    yield world
    # Real ids in the paths: each operation's handler answered at least once with something else than "not found".
    assert world.answers and set(world.answers) != {404}, f"every request was answered 404: {world.answers}"


def _own_objects(user, draft) -> dict:
    """The objects that belong to one user: a job, a cloud credential (for a server that is not running) and a
    DataView over the draft."""
    job = services.job_start(user=user, kind="stats", key=f"fuzz-{user.pk}", version=draft, subject="fuzz", task=None)
    credential = services.credential_create(user=user, data={
        "provider": "s3", "name": f"fuzz {user.pk}", "host": "127.0.0.1:9", "anonymous": True, "use_tls": False})
    dataview = services.dataview_create(user=user, data={"queries": [{"version": draft.pk, "roi_query": "car"}]})
    return {"job_id": job.pk, "credential_id": credential.pk, "dataview_id": dataview.pk}


def fuzz(case, world, user):
    """Send the case as `user` with real ids in its path, and check the answer."""
    real = {"dataset_id": world.dataset.pk, "version_id": world.draft.pk, "frame_id": "f1", "member_id": world.member.pk,
            "project_id": world.project.pk, **world.own[user.pk]}
    if case.path_parameters:
        case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
    token = Token.objects.get_or_create(user=user)[0]
    response = case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, checks=CHECKS)
    world.answers.append(response.status_code)


@schema.parametrize()
@FUZZ
def test_api_as_owner(case, world):
    fuzz(case, world, world.owner)


@schema.parametrize()
@FUZZ
def test_api_as_viewer(case, world):
    fuzz(case, world, world.viewer)


@pytest.fixture
def fuzz_settings(tmp_path):
    """Writes land in this test's folders; no preview job is queued."""
    # Django's test client does the same: closing "old" connections would close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    imports = tmp_path / "imports"
    roots = [*django_settings.HYPERDATA_MEDIA_ROOTS, str(imports)]
    with override_settings(HYPERDATA_IMPORTS_DIR=imports, HYPERDATA_MEDIA_ROOTS=roots, HYPERDATA_PREVIEWS_AUTO=False):
        yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
