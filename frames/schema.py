"""The frame wire format (ClearML Hyper-Datasets frame JSON), validated with pydantic.

`parse_frame` turns what users send into the one canonical dict we store and emit: `label` becomes `labels`,
mask ids become strings, unknown keys inside sources and ROIs are kept as they were sent. Errors name the
field with its path (`rois[1].poly`) and the reason.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .models import new_id

POLY_SEPARATOR = -999999999
LABEL_LIMIT = 255  # the label index column's width
INT32 = 2**31 - 1  # integer columns (sizes, frame counts)
INT64 = 2**63 - 1  # big integer columns (timestamps)
ROI_LIMIT = 32767  # ROIs of one frame (the label index keeps each ROI's position in a small integer)
# Strings that must be strings: a number where a URI or a label belongs is a mistake, not something to convert.
Uri = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
Label = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=LABEL_LIMIT)]
# Fields the server sets; clients may send them back (a frame read from the API) and they are ignored.
SERVER_FIELDS = ("dataset", "saved", "saved_in_version", "blob")
SERVER_SOURCE_KEYS = ("preview_status", "preview_error")


class FrameError(ValueError):
    """A frame that cannot be stored; `errors` is a list of {"field", "message"}."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


class _Open(BaseModel):
    """Keeps keys we do not know, so sources and ROIs round-trip unchanged."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Preview(_Open):
    uri: Uri
    content_type: str | None = None
    timestamp: int | None = None


class Mask(_Open):
    id: str
    uri: Uri
    content_type: str | None = None
    timestamp: int | None = Field(default=None, ge=-INT64, le=INT64)


class Source(_Open):
    id: str = Field(default="default", min_length=1, max_length=255)
    uri: Uri
    content_type: str | None = Field(default=None, max_length=255)
    width: int | None = Field(default=None, ge=0, le=INT32)
    height: int | None = Field(default=None, ge=0, le=INT32)
    timestamp: int | None = Field(default=None, ge=-INT64, le=INT64)
    meta: dict[str, Any] | None = None
    masks: list[Mask] | None = None
    preview: Preview | None = None


class RoiMask(_Open):
    id: str
    value: list[int] = Field(min_length=3, max_length=4)

    @field_validator("value")
    @classmethod
    def _rgb(cls, value):
        # -1 appears in ClearML's own example ([-1, 1, 255]); accept it as "any".
        if any(channel < -1 or channel > 255 for channel in value):
            raise ValueError("each channel must be between 0 and 255")
        return value


class Roi(_Open):
    id: str | None = None
    labels: list[Label] = Field(default_factory=list, validation_alias=AliasChoices("labels", "label"))
    confidence: float | None = Field(default=None, ge=0, le=1)
    sources: list[str] | None = None
    poly: list[float] | None = None
    mask: RoiMask | None = None
    meta: dict[str, Any] | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _one_label(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("poly")
    @classmethod
    def _polygons(cls, poly):
        for part in split_poly(poly):
            if len(part) % 2:
                raise ValueError(f"a polygon has an odd number of coordinates ({len(part)}); expected x,y pairs")
            if len(part) < 4:
                raise ValueError("a polygon needs at least two points")
        return [int(v) if float(v).is_integer() else v for v in poly]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    id: str | None = Field(default=None, min_length=1, max_length=255)
    context_id: str | None = Field(default=None, max_length=1024)
    timestamp: int = Field(default=0, ge=0, le=INT64)
    num_frames: int | None = Field(default=None, ge=0, le=INT32)
    meta: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(min_length=1)
    rois: list[Roi] = Field(default_factory=list, max_length=ROI_LIMIT)

    @model_validator(mode="after")
    def _references(self):
        ids = [source.id for source in self.sources]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"sources: duplicate source id {duplicates[0]!r}")
        for index, roi in enumerate(self.rois):
            for name in roi.sources or []:
                if name not in ids:
                    raise ValueError(
                        f"rois[{index}].sources: source id {name!r} is not one of the frame's sources ({', '.join(ids)})"
                    )
        return self


def _drop_server_source_keys(frame: dict) -> None:
    """A frame read from the API carries previews the workers made and their status: not the user's data."""
    for entry in [*frame["sources"], *(m for s in frame["sources"] for m in s.get("masks") or [])]:
        for key in SERVER_SOURCE_KEYS:
            entry.pop(key, None)
        if isinstance(entry.get("preview"), dict) and entry["preview"].get("generated"):
            del entry["preview"]


def split_poly(poly: list[float] | None) -> list[list[float]]:
    """Split a flat ClearML poly into its polygons (-999999999 separates them)."""
    parts, current = [], []
    for value in poly or []:
        if value == POLY_SEPARATOR:
            parts.append(current)
            current = []
        else:
            current.append(value)
    if current or parts:
        parts.append(current)
    return parts


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "frame"


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    result = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        field = _field_path(error["loc"])
        # Model-level checks name their field at the start of the message.
        if field == "frame" and ": " in message:
            field, message = message.split(": ", 1)
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        result.append({"field": field, "message": message})
    return result


def parse_frame(data: Any) -> dict[str, Any]:
    """Validate one frame and return its canonical dict (server fields not yet set)."""
    if not isinstance(data, dict):
        raise FrameError([{"field": "frame", "message": f"expected a JSON object, got {type(data).__name__}"}])
    data = {key: value for key, value in data.items() if key not in SERVER_FIELDS}
    try:
        frame = Frame.model_validate(data)
    except ValidationError as exc:
        raise FrameError(_errors(exc)) from None
    canonical = frame.model_dump(exclude_unset=True)
    _drop_server_source_keys(canonical)
    canonical.setdefault("id", new_id())
    canonical.setdefault("timestamp", 0)
    canonical.setdefault("meta", {})
    canonical.setdefault("rois", [])
    canonical.setdefault("num_frames", 1)
    for source in canonical["sources"]:
        source.setdefault("id", "default")
    if not canonical.get("context_id"):
        canonical["context_id"] = canonical["sources"][0]["uri"]
    for roi in canonical["rois"]:
        roi.setdefault("labels", [])
        if not roi.get("id"):
            roi["id"] = new_id()
    return canonical


def frame_etag(saved: int) -> str:
    """A frame's ETag: its `saved` value, which every save moves forward."""
    return f'"{saved}"'


def saved_from_etags(etags: list[str]) -> list[int]:
    """The `saved` values of frame ETags (as sent in If-Match); those that are not frame ETags are left out."""
    values = []
    for etag in etags:
        text = etag.strip().strip('"')
        if text.isdigit():
            values.append(int(text))
    return values
