"""The import formats by name: `--format` of the CLI, `format` of the API and the Import page."""
from __future__ import annotations

from . import clearml, coco, encord, lightly
from .base import Reader

FORMATS: dict[str, Reader] = {
    "clearml": clearml.read,
    "coco": coco.read,
    "encord": encord.read,
    "lightly": lightly.read,
}
