"""The Django admin (frames/admin.py, issue 13 item 10): staff look up projects, datasets, versions, members, jobs
and cloud access; nothing there adds, changes or deletes (the services own every write); a credential's secrets
never reach the page; a list is one page of rows, without counting a whole big table."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from frames import services
from frames.models import CloudCredential, Dataset, DatasetMember, DatasetVersion, Job, Project
from frames.selectors import SYSTEM as ACTOR

from .pages import html as page_html

SECRET = "s3cr3t-PLAINTEXT-never-shown"
TOKEN = "session-TOKEN-never-shown"
MODELS = [Project, Dataset, DatasetVersion, DatasetMember, Job, CloudCredential]


@pytest.fixture
def world(db, admin_user, django_user_model):
    """A dataset with a published version and a draft child, a member, a job and a credential with secrets."""
    django_user_model.objects.create_user("viewer-vera", password="x")
    dataset = services.dataset_create(user=admin_user, name="harbour-cams", description="Harbour cameras", tags=["sea", "night"])
    version = dataset.versions.get()
    services.frames_add(user=admin_user, version=version, frames=[{"id": f"f{i}", "sources": [{"uri": f"s3://b/{i}.jpg"}]} for i in range(3)])
    published, draft = services.version_snapshot(user=admin_user, version=version, name="v1")
    member = services.member_set(user=admin_user, dataset=dataset, username="viewer-vera", role="viewer")
    job = services.job_start(user=admin_user, kind="stats", key="admin-test", version=draft, subject="statistics of harbour-cams", task=None)
    credential = services.credential_create(user=admin_user, data={
        "provider": "s3", "name": "harbour-minio", "host": "minio.example:9000", "bucket": "harbour", "region": "eu-west-1",
        "key": "HARBOURKEYID123", "secret": SECRET, "token": TOKEN, "use_tls": True, "shared": False})
    return {"dataset": dataset, "published": published, "draft": draft, "member": member, "job": job, "credential": credential,
            "project": dataset.project}


def changelist(model) -> str:
    return reverse(f"admin:frames_{model._meta.model_name}_changelist")


def result_rows(html: str) -> int:
    table = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', html, re.S)
    return len(re.findall(r"<tr\b", table.group(1))) if table else 0


# ----------------------------------------------------------------------------------------------------- lists


def test_staff_see_each_list_with_its_columns(admin_client, world):
    expected = {
        Project: [world["project"].name, "Datasets"],
        Dataset: ["harbour-cams", "Project", "Owner", "Tags", "Versions", "sea, night", "admin"],
        DatasetVersion: ["v1", world["draft"].name, "Status", "Frame count", "Published", "harbour-cams"],
        DatasetMember: ["viewer-vera", "Role", "viewer"],
        Job: [world["job"].pk, "statistics of harbour-cams", "Kind", "State", "Progress"],
        CloudCredential: ["harbour-minio", "minio.example:9000", "Secret set", "Delivery"],
    }
    index = page_html(admin_client.get("/admin/"))
    for model, texts in expected.items():
        assert changelist(model) in index, model  # listed on the admin's home page
        response = admin_client.get(changelist(model))
        html = page_html(response)
        assert response.status_code == 200, model
        for text in texts:
            assert text in html, (model, text)
    # Search and filters.
    versions = page_html(admin_client.get(changelist(DatasetVersion), {"q": world["dataset"].pk}))
    assert result_rows(versions) == 2  # a dataset's versions, by its id (the Datasets list links there)
    published = page_html(admin_client.get(changelist(DatasetVersion), {"status__exact": "published"}))
    assert result_rows(published) == 1 and "v1" in published
    assert result_rows(page_html(admin_client.get(changelist(Job), {"kind": "stats"}))) == 1
    assert result_rows(page_html(admin_client.get(changelist(Job), {"kind": "pyramid"}))) == 0
    assert result_rows(page_html(admin_client.get(changelist(Job), {"kind": "previews"}))) == 1  # queued by frames_add
    assert result_rows(page_html(admin_client.get(changelist(Dataset), {"q": "harbour"}))) == 1
    assert result_rows(page_html(admin_client.get(changelist(Dataset), {"q": "nothing-like-it"}))) == 0
    # Links into the app from the detail pages.
    detail = page_html(admin_client.get(reverse("admin:frames_dataset_change", args=[world["dataset"].pk])))
    assert reverse("viewer:dataset", args=[world["dataset"].pk]) in detail
    detail = page_html(admin_client.get(reverse("admin:frames_job_change", args=[world["job"].pk])))
    assert reverse("viewer:job", args=[world["job"].pk]) in detail


def test_signed_out_and_plain_users_do_not_get_in(client, django_user_model, world):
    assert client.get(changelist(Dataset)).status_code == 302  # to the admin's sign-in
    django_user_model.objects.create_user("plain", password="x")
    client.login(request=HttpRequest(), username="plain", password="x")  # django-axes wants the request
    assert client.get(changelist(Dataset)).status_code == 302  # not staff


def test_a_staff_member_with_view_permissions_only_reads(client, django_user_model, world):
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=[f"view_{m._meta.model_name}" for m in MODELS]))
    client.login(request=HttpRequest(), username="clerk", password="x")
    assert "harbour-cams" in page_html(client.get(changelist(Dataset)))
    assert client.get(reverse("admin:frames_dataset_change", args=[world["dataset"].pk])).status_code == 200
    assert client.get(reverse("admin:frames_dataset_add")).status_code == 403


# ---------------------------------------------------------------------------------------------- no writes here


def detail_urls(world) -> dict:
    return {
        Project: world["project"].pk, Dataset: world["dataset"].pk, DatasetVersion: world["draft"].pk,
        DatasetMember: world["member"].pk, Job: world["job"].pk, CloudCredential: world["credential"].pk,
    }


def test_add_change_and_delete_are_refused_and_change_nothing(admin_client, world):
    before = {model: list(model.objects.order_by("pk").values()) for model in MODELS}
    for model, pk in detail_urls(world).items():
        name = model._meta.model_name
        html = page_html(admin_client.get(changelist(model)))
        assert reverse(f"admin:frames_{name}_add") not in html and 'name="action"' not in html, model  # no Add, no bulk actions
        assert admin_client.get(reverse(f"admin:frames_{name}_add")).status_code == 403, model
        assert admin_client.post(reverse(f"admin:frames_{name}_add"), {"name": "sneaky"}).status_code == 403, model
        change = reverse(f"admin:frames_{name}_change", args=[pk])
        response = admin_client.get(change)
        html = page_html(response)
        assert response.status_code == 200, model  # a read-only detail page
        assert 'name="_save"' not in html and "deletelink" not in html, model
        assert not re.search(r'<(input|textarea|select)[^>]+name="(?!csrfmiddlewaretoken)', html), model  # nothing to edit
        assert admin_client.post(change, {"name": "renamed", "status": "published", "role": "owner", "state": "done"}).status_code == 403, model
        delete = reverse(f"admin:frames_{name}_delete", args=[pk])
        assert admin_client.get(delete).status_code == 403, model
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403, model
        # Nor the bulk delete action (checked below: nothing is gone).
        admin_client.post(changelist(model), {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert {model: list(model.objects.order_by("pk").values()) for model in MODELS} == before


# ------------------------------------------------------------------------------------------------- secrets


def test_a_credentials_secrets_never_reach_the_page(admin_client, world):
    credential = CloudCredential.objects.get(pk=world["credential"].pk)
    assert credential.secret and SECRET not in credential.secret  # stored encrypted
    pages = [
        admin_client.get(changelist(CloudCredential)),
        admin_client.get(changelist(CloudCredential), {"q": "harbour"}),
        admin_client.get(reverse("admin:frames_cloudcredential_change", args=[credential.pk])),
    ]
    for response in pages:
        html = page_html(response)
        assert response.status_code == 200
        for hidden in (SECRET, TOKEN, credential.secret, credential.token, credential.secret[:24], "HARBOURKEYID123"):
            assert hidden not in html
    detail = page_html(pages[-1])
    assert "HARB…" in detail  # the key, shortened: enough to recognise it
    assert re.search(r"Secret set.*?icon-yes", detail, re.S) and re.search(r"Token set.*?icon-yes", detail, re.S)


# ---------------------------------------------------------------------------------------------- big tables


def test_a_list_is_one_page_and_never_counts_the_whole_table(admin_client, world):
    Job.objects.bulk_create([Job(kind="stats", subject=f"bulk job {i}", state=Job.DONE) for i in range(130)])
    html = page_html(admin_client.get(changelist(Job)))
    assert result_rows(html) == 50
    assert result_rows(page_html(admin_client.get(changelist(Job), {"all": ""}))) == 50  # "Show all" stays one page
    with CaptureQueriesContext(connection) as queries:
        filtered = page_html(admin_client.get(changelist(Job), {"q": "bulk job 12"}))
    assert result_rows(filtered) == 12  # 12, 112 and 120-129 (each word matches)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "frames_job" in q["sql"]]
    assert counts and all("WHERE" in sql.upper() for sql in counts), counts  # only the filtered rows are counted
    assert "_facets" not in html  # no "Show counts": a count per filter choice over the whole table
    # The detail pages show related rows as text: no select box filled with a whole table.
    detail = page_html(admin_client.get(reverse("admin:frames_job_change", args=[world["job"].pk])))
    assert "<select" not in detail and "<option" not in detail
