"""DICOM slices (Encord's `dicom_series`): the PNG previews frames.media.dicom makes, on DICOM files written here
with pydicom (there is no DICOM in ../shared/testdata), and a real Celery worker previewing the slices of a
series imported through the Encord reader."""
import io
import json
import time

import numpy as np
import pydicom
import pytest
from django.core.files.storage import default_storage
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from frames import media, services
from frames.importers.base import ImportSource, Record
from frames.importers.formats import FORMATS
from .clients import api_client

WAIT_SECONDS = 180


def ct_slice(path, *, rows=48, columns=64, number=1, photometric="MONOCHROME2", window=None, frames=1):
    """A real (tiny) CT slice: 12-bit values in 16 bits, rescaled to Hounsfield units by slope and intercept; a
    gradient whose brightest corner is bottom-right; `frames` > 1 makes a multi-frame file (odd frames mirrored)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID, dataset.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    dataset.Modality, dataset.InstanceNumber, dataset.SeriesInstanceUID = "CT", number, "1.2.3.4"
    dataset.Rows, dataset.Columns = rows, columns
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, photometric
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
    dataset.RescaleSlope, dataset.RescaleIntercept = 1, -1024
    if window:
        dataset.WindowCenter, dataset.WindowWidth = window
    ys, xs = np.mgrid[0:rows, 0:columns]
    gradient = (xs * 30 + ys * 20 + number * 10).astype(np.uint16)
    pixels = np.stack([np.flip(gradient, axis=1) if k % 2 else gradient for k in range(frames)]) if frames > 1 else gradient
    if frames > 1:
        dataset.NumberOfFrames = frames
    dataset.PixelData = np.clip(pixels, 0, 4095).astype(np.uint16).tobytes()
    dataset.save_as(path, enforce_file_format=True)
    return path


def png(preview: media.Preview) -> Image.Image:
    assert preview.content_type == "image/png"
    image = Image.open(io.BytesIO(preview.data))
    assert image.format == "PNG"
    return image


def test_a_slice_becomes_a_grey_png_of_its_shape_brightest_where_its_values_are_highest(tmp_path):
    path = ct_slice(tmp_path / "slice.dcm", rows=48, columns=64)
    preview = media.render_image_preview(str(path), max_size=32)  # the route every image preview takes
    image = png(preview)
    assert (preview.width, preview.height) == (64, 48) and image.size == (32, 24) and image.mode == "L"
    grey = np.asarray(image)
    assert grey[-1, -1] > 200 and grey[0, 0] < 50, "the value range is stretched over 0..255"
    assert png(media.render_dicom_preview(path, max_size=256)).size == (64, 48), "never enlarged"


def test_monochrome1_is_inverted_and_the_window_is_applied(tmp_path):
    plain = np.asarray(png(media.render_dicom_preview(ct_slice(tmp_path / "a.dcm"))))
    inverted = np.asarray(png(media.render_dicom_preview(ct_slice(tmp_path / "b.dcm", photometric="MONOCHROME1"))))
    assert np.abs(plain.astype(int) + inverted.astype(int) - 255).max() <= 1
    # A narrow window around the middle values: everything left of it black, right of it white.
    windowed = np.asarray(png(media.render_dicom_preview(ct_slice(tmp_path / "c.dcm", window=(400, 100)))))
    assert (windowed == 0).mean() > 0.35 and (windowed == 255).mean() > 0.35


def test_a_multi_frame_file_shows_the_frame_asked_for(tmp_path):
    path = ct_slice(tmp_path / "multi.dcm", frames=3, rows=8, columns=8)
    with pydicom.dcmread(path) as dataset:
        assert dataset.NumberOfFrames == 3
    first, second = (np.asarray(png(media.render_dicom_preview(path, page=page))) for page in (0, 1))
    assert first[0, -1] > first[0, 0] and second[0, 0] > second[0, -1], "frame 1 is frame 0 mirrored"
    with pytest.raises(media.PreviewError, match="frame 3 does not exist"):
        media.render_dicom_preview(path, page=3)


def test_a_dicom_file_without_pixels_or_a_broken_one_says_why(tmp_path):
    path = ct_slice(tmp_path / "report.dcm")
    with pydicom.dcmread(path) as dataset:
        del dataset.PixelData
        dataset.save_as(tmp_path / "no-pixels.dcm", enforce_file_format=True)
    with pytest.raises(media.PreviewError, match="no pixel data"):
        media.render_image_preview(str(tmp_path / "no-pixels.dcm"))
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(path.read_bytes()[:-1000])  # the pixel data cut short
    with pytest.raises(media.PreviewError, match="unreadable DICOM"):
        media.render_image_preview(str(broken))


@pytest.mark.django_db(transaction=True)
def test_the_worker_previews_the_slices_of_an_imported_dicom_series(celery_worker_process, media_roots):
    series = media_roots / "encord-ct"
    series.mkdir()
    names = [ct_slice(series / f"slice-{n}.dcm", rows=40 + n, columns=60, number=n).name for n in (1, 2, 3)]
    document = series / "import.json"
    document.write_text(json.dumps({"dicom_series": [{"title": "ct-chest", **{f"objectUrl_{i}": name for i, name in enumerate(names)}}]}))
    frames = [item.frame for item in FORMATS["encord"](ImportSource(path=document)) if isinstance(item, Record)]
    assert [f["sources"][0]["uri"] for f in frames] == [str(series / name) for name in names]

    api = api_client("dicom-user", pages=True)
    dataset = services.dataset_create(user=api.user, name="dicom series")
    version = dataset.versions.get()
    services.frames_add(user=api.user, version=version, frames=frames)
    deadline = time.monotonic() + WAIT_SECONDS
    while (progress := api.get(f"/api/versions/{version.id}/previews/").json())["pending"]:
        assert time.monotonic() < deadline, f"previews still pending after {WAIT_SECONDS} s: {progress}"
        time.sleep(0.5)
    assert (progress["done"], progress["failed"]) == (3, 0), progress

    shown = api.get(f"/api/versions/{version.id}/frames/?limit=10").json()["results"]
    by_slice = {f["timestamp"]: f["sources"][0] for f in shown}
    assert sorted(by_slice) == [0, 1, 2] and {f["context_id"] for f in shown} == {"ct-chest"}
    for position, source in by_slice.items():
        assert source["content_type"] == "application/dicom"
        assert (source["width"], source["height"]) == (60, 41 + position), "the worker measured the slice"
        with default_storage.open(source["preview"]["uri"].split("?")[0].removeprefix("/media/"), "rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            assert image.format == "PNG" and image.size == (60, 41 + position)
