"""The Import tab of a draft version (issue 14, item 6).

    GET /versions/<version>/import/

The page is a form: the format, the input (an uploaded file, a .zip for a folder, or a file or folder on the
server inside HYPERDATA_MEDIA_ROOTS), where media names resolve (`media_root`, a folder or a cloud prefix) and
the format's options. static/js/import.js sends it to the REST API (POST /api/versions/<v>/imports/), first as
a dry run ("Check"), then for real with the dry run's frame count as the job's total, and follows the job
(GET /api/jobs/<id>/) for the progress bar and the report. So the page, the API and the CLI share one write
path: frames.services.import_jobs.

Annotators and owners of a draft may import. A viewer gets 403 (templates/403.html says who may); on a
published version the page says why nothing can be imported into it, and offers an owner a new child draft.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from frames import selectors, services

from .datasets import get_version
from .versions import version_context

JOB_ID_SLOT = "00000000000000000000000000000000"  # replaced by the job's id in import.js


@dataclass(frozen=True)
class FormatHelp:
    """What the page says about a format: its name, what to give it, and which options it reads."""

    title: str
    input: str
    options: str = ""
    accept: str = ".json,.jsonl,.ndjson,.zip"


FORMAT_HELP = {
    "clearml": FormatHelp(
        "ClearML frame JSON",
        "One JSON array of frames or JSON lines (.jsonl, one frame per line), exactly as the REST API takes them; "
        "a .zip or a folder of such files.",
    ),
    "coco": FormatHelp(
        "COCO",
        "A COCO annotation file (instances, key points or panoptic). Upload a .zip holding the JSON and its images, "
        "or set Media root to the images' folder or cloud prefix.",
        'panoptic_root: the folder of panoptic PNGs, e.g. {"panoptic_root": "panoptic_val2017"}.',
    ),
    "encord": FormatHelp(
        "Encord import JSON",
        "Encord's import JSON (videos with key frames and config.sampling_rate, images, image groups, DICOM series), "
        "optionally with label rows (*.label_row.json) and an ontology (*.ontology.json) beside it in a .zip or folder.",
        'labels, ontology: a file or folder inside the input, e.g. {"labels": "label_rows/"}.',
    ),
    "lightly": FormatHelp(
        "Lightly metadata folder",
        "A Lightly datasource: the .lightly/metadata folder (schema.json and one JSON per image, video or video frame) "
        "with the media, as a .zip or a folder on the server.",
        'fps: the frame rate of videos whose rate cannot be read, e.g. {"fps": 30}.',
        accept=".zip",
    ),
}
LENIENT_FORMATS = ("lightly",)  # the formats with the Lenient checkbox (trailing and missing commas mended)


def _formats() -> list[dict]:
    formats = []
    for name in services.import_formats():
        help_text = FORMAT_HELP.get(name, FormatHelp(name, "A file or a .zip of files in this format."))
        formats.append({"name": name, "help": help_text, "lenient": name in LENIENT_FORMATS})
    return formats


@require_GET
def version_import(request, version_id):
    """The Import tab: the form on a draft; on a published version, why not."""
    version = get_version(request, version_id, selectors.ANNOTATOR)
    context = {
        **version_context(request, version, "import"),
        "formats": _formats(),
        "server_roots": [root for root in settings.HYPERDATA_MEDIA_ROOTS if root != str(settings.HYPERDATA_IMPORTS_DIR)],  # uploads land there
        "urls": {
            "api": reverse("api:version-import", args=[version.pk]),
            "job": reverse("api:job-detail", args=[JOB_ID_SLOT]),
            "cancel": reverse("api:job-cancel", args=[JOB_ID_SLOT]),
            "job_page": reverse("viewer:job", args=[JOB_ID_SLOT]),
            "frames": reverse("viewer:version", args=[version.pk]),
        },
        "job_id_slot": JOB_ID_SLOT,
        "is_owner": selectors.allows(request.user, version, selectors.OWNER),
    }
    return render(request, "viewer/version_import.html", context)
