"""Settings → Cloud access in the browser and through the page's forms: add, list, edit (a blank secret keeps the
saved one), share (staff only), delete, Test (a plain message), and never a secret in a page.

The Test here talks to a real closed port on loopback (connection refused); tests/test_cloud_s3.py tests the
messages against a real S3 server."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import expect

from frames.models import CloudCredential
from frames.secrets import decrypt

pytestmark = pytest.mark.django_db(transaction=True)
SCREENSHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def s3_form(port: int, **changes) -> dict:
    data = {"provider": "s3", "name": "Lab store", "host": f"127.0.0.1:{port}", "bucket": "frames", "region": "us-east-1",
            "key": "AKIAIOSFODNN7EXAMPLE", "secret": SECRET, "token": "", "azure_auth": "key", "delivery": "proxy"}
    return data | changes


def test_add_edit_share_and_delete_through_the_forms(client, admin_client, db):
    alice = get_user_model().objects.create_user("alice", password="pw")
    client.force_login(alice)
    port = closed_port()
    answer = client.post(reverse("viewer:credential-create"), s3_form(port))
    assert answer.status_code == 302
    row = CloudCredential.objects.get()
    assert row.owner == alice and SECRET not in row.secret and decrypt(row.secret) == SECRET  # encrypted at rest
    listing = client.get(reverse("viewer:cloud-access")).content.decode()
    assert "Lab store" in listing and SECRET not in listing and "saved" in listing
    form = client.get(reverse("viewer:credential-edit", args=[row.pk])).content.decode()
    assert SECRET not in form and 'name="shared"' not in form  # write-only; only staff share

    # A blank secret keeps the saved one; a bad value is refused beside its field.
    assert client.post(reverse("viewer:credential-edit", args=[row.pk]), s3_form(port, name="Lab store 2", secret="")).status_code == 302
    row.refresh_from_db()
    assert row.name == "Lab store 2" and decrypt(row.secret) == SECRET
    refused = client.post(reverse("viewer:credential-edit", args=[row.pk]), s3_form(port, provider="ftp"))
    assert refused.status_code == 400 and b"not one of the available choices" in refused.content

    # Another user neither sees nor edits it; staff share a row of their own.
    bob = get_user_model().objects.create_user("bob", password="pw")
    client.force_login(bob)
    assert "Lab store" not in client.get(reverse("viewer:cloud-access")).content.decode()
    assert client.get(reverse("viewer:credential-edit", args=[row.pk])).status_code == 404
    assert admin_client.post(reverse("viewer:credential-create"), s3_form(port, name="Shared AWS", host="", shared="on")).status_code == 302
    assert CloudCredential.objects.get(name="Shared AWS").owner is None
    assert "Shared AWS" in client.get(reverse("viewer:cloud-access")).content.decode()  # bob may use it

    client.force_login(alice)
    assert client.post(reverse("viewer:credential-delete", args=[row.pk])).status_code == 302
    assert not CloudCredential.objects.filter(pk=row.pk).exists()


def test_the_test_button_says_what_failed(logged_in_page, admin_user):
    page = logged_in_page
    page.goto(reverse("viewer:cloud-access"))
    expect(page.locator("#credentials .empty")).to_be_visible()
    page.click("#credential-add")
    port = closed_port()
    for name, value in s3_form(port).items():
        if name in ("provider", "azure_auth"):
            page.select_option(f"[name={name}]", value)
        elif name == "delivery":
            page.check(f"[name=delivery][value={value}]")
        else:
            page.fill(f"[name={name}]", value)
    page.screenshot(path=str(SCREENSHOTS / "cloud-access-form.png"), full_page=True)
    page.click("form.form-card button[type=submit]")
    row = page.locator("#credentials tbody tr[data-credential-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Lab store")
    assert SECRET not in page.content()
    row.get_by_role("button", name="Test").click()
    result = page.locator(".credential-result .test-result")
    expect(result).to_contain_text("refused", timeout=30_000)
    expect(result).to_have_class("test-result failed")
    page.screenshot(path=str(SCREENSHOTS / "cloud-access-list.png"), full_page=True)
