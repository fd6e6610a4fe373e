"""The disk of previews full: the rendition fails with a reason a person can act on, no half-written file is
left under a name the web serves (files are written to a temporary name and renamed: hyperdata.atomic_storage),
and once there is room again "retry failed" makes it whole. The disk is a real tmpfs of 128 KiB mounted for the
test (it needs root, as the test machines run), nearly filled first."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.test import override_settings
from PIL import Image

from frames import services
from frames.models import MediaPreview

from hyperdata.atomic_storage import TEMPORARY_PREFIX

pytestmark = pytest.mark.django_db
DISK_BYTES = 128 * 1024


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "previews-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and must run as root: {mounted.stderr}", pytrace=False)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of the disk's free space but `leave` bytes."""
    stats = os.statvfs(disk)
    filler = disk / "filler.bin"
    filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - leave))
    return filler


def test_a_full_previews_disk_fails_the_rendition_clearly_and_leaves_no_partial_file(small_disk, media_roots, django_user_model):
    owner = django_user_model.objects.create_user("owner", password="pw-owner-123")
    photo = media_roots / "noise.png"  # noise does not compress: its preview is far larger than the room left
    Image.fromarray(np.random.default_rng(7).integers(0, 255, (600, 800, 3), dtype=np.uint8)).save(photo)
    version = services.dataset_create(user=owner, name="full-disk").versions.get()
    with override_settings(MEDIA_ROOT=str(small_disk), HYPERDATA_PREVIEWS_AUTO=False):
        services.frames_add(user=owner, version=version, frames=[{"id": "noise", "sources": [{"uri": f"file://{photo}"}]}])
        row = MediaPreview.objects.get(uri=f"file://{photo}")
        filler = fill(small_disk, leave=4096)

        services.render_previews(uri=row.uri, keys=[row.key])
        row.refresh_from_db()
        assert row.status == MediaPreview.FAILED and row.file == ""
        assert row.error.startswith("the previews disk is full (No space left on device)") and "retry failed previews" in row.error
        written = [p for p in small_disk.rglob("*") if p.is_file() and p != filler]
        assert written == []  # neither the preview nor its temporary file
        assert filler.stat().st_size > 0

        filler.unlink()  # room again; "retry failed" queues the failed rows (with previews off it only resets them)
        assert services.previews_regenerate(user=owner, version=version) == 1
        services.render_previews(uri=row.uri, keys=[row.key])
        row.refresh_from_db()
        assert row.status == MediaPreview.DONE and row.error == ""
        stored = small_disk / row.file
        assert Image.open(stored).size[0] > 0 and not list(small_disk.rglob(f"{TEMPORARY_PREFIX}*"))
