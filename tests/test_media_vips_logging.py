"""libvips' log messages go to the log at DEBUG: a worker at INFO (run.sh starts Celery with `-l info`) prints
no `VIPS:` line for every preview, and its warnings still make the renderer try the next decoder."""

from __future__ import annotations

import io
import logging

import pytest

from frames.media import render_image_preview
from tests.media_helpers import media_testdata, record_routes
from tests.test_media_decoder_fallback import damaged_packbits_tiff


@pytest.fixture
def worker_log():
    """Configure the root logger as `celery worker -l LEVEL` does (that level, one stream handler); returns what
    the handler printed. Restored afterwards."""
    root = logging.getLogger()
    saved_level = root.level
    printed = io.StringIO()
    handler = logging.StreamHandler(printed)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)

    def configure(level: int) -> io.StringIO:
        root.setLevel(level)
        return printed

    yield configure
    root.removeHandler(handler)
    root.setLevel(saved_level)


def libvips_lines(printed: io.StringIO) -> list[str]:
    return [line for line in printed.getvalue().splitlines() if "VIPS:" in line]


def test_a_worker_at_info_prints_no_libvips_lines(worker_log):
    printed = worker_log(logging.INFO)
    render_image_preview(media_testdata() / "tiff/pillow/hopper.tif")  # libvips' thumbnailer logs its steps
    assert libvips_lines(printed) == []


def test_libvips_messages_are_still_logged_at_debug(worker_log):
    printed = worker_log(logging.DEBUG)
    render_image_preview(media_testdata() / "tiff/pillow/hopper.tif")
    lines = libvips_lines(printed)
    assert any("VIPS: selected loader" in line for line in lines), lines
    assert all(line.startswith("DEBUG pyvips VIPS: ") for line in lines), lines


def test_libvips_warnings_are_printed_at_debug_only_and_still_count(worker_log, tmp_path, monkeypatch):
    printed = worker_log(logging.INFO)
    routes = record_routes(monkeypatch)
    path = damaged_packbits_tiff(tmp_path / "damaged.tif")  # libvips warns "Discarding N bytes ..."
    render_image_preview(path, max_size=300)
    assert libvips_lines(printed) == []
    assert [route for route, _ in routes] == ["_tiff_with_vips", "_tiff_with_pillow"]
