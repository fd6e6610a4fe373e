"""The frame wire format (ClearML Hyper-Datasets frame JSON), validated with pydantic.

`parse_frame` turns what users send (FrameInput) into the one canonical dict we store and emit: `label` becomes
`labels`, mask ids become strings, unknown keys inside sources and ROIs are kept as they were sent. Errors name
the field with its path (`rois[1].poly`) and the reason.

The models are also the API's types: the OpenAPI schema is generated from them (frames/api/openapi.py), so
the documented frame cannot drift from the validated one. `Frame` is what the API returns: a FrameInput as
stored, with the server's fields and the previews the workers made. FrameChanges and FrameUpdate only document
PATCH bodies (the change is merged into the stored frame and the result goes through `parse_frame`).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

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

from . import limits
from .models import new_id
from .shapes import RoiShape, compact

POLY_SEPARATOR = -999999999
LABEL_LIMIT = limits.LABEL_LENGTH  # the label index column's width
INT32 = 2**31 - 1  # integer columns (sizes, frame counts)
INT64 = 2**63 - 1  # big integer columns (timestamps)
ROI_LIMIT = 32767  # ROIs of one frame (the label index keeps each ROI's position in a small integer)
# Strings that must be strings: a number where a URI or a label belongs is a mistake, not something to convert.
Uri = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
Label = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=LABEL_LIMIT)]
# Frame columns, shared by what clients send and what the API returns.
FrameId = Annotated[str, Field(min_length=1, max_length=255)]
ContextId = Annotated[str, Field(max_length=1024)]
FrameTimestamp = Annotated[int, Field(ge=0, le=INT64)]
FrameCount = Annotated[int, Field(ge=0, le=INT32)]
# Fields the server sets; clients may send them back (a frame read from the API) and they are ignored.
SERVER_FIELDS = ("dataset", "saved", "saved_in_version", "blob")
SERVER_SOURCE_KEYS = ("preview_status", "preview_error")


class FrameError(ValueError):
    """A frame that cannot be stored; `errors` is a list of {"field", "message"}."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def _meta_within_limits(meta):
    """Metadata nested too deeply or too large is refused (frames.limits)."""
    problem = limits.meta_problem(meta)
    if problem:
        raise ValueError(problem)
    return meta


class _Open(BaseModel):
    """Keeps keys we do not know, so sources and ROIs round-trip unchanged."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Preview(_Open):
    """A small image of a source or mask that the client provides."""

    uri: Uri
    content_type: str | None = None
    timestamp: int | None = None


class Mask(_Open):
    """A mask image of a source; ROIs point at its pixels by RGB value (`rois[].mask`)."""

    id: str
    uri: Uri
    content_type: str | None = None
    timestamp: int | None = Field(default=None, ge=-INT64, le=INT64)
    preview: Preview | None = None


class Source(_Open):
    """One image or video of the frame (`id` names it when a frame has several)."""

    id: str = Field(default="default", min_length=1, max_length=255)
    uri: Uri
    content_type: str | None = Field(default=None, max_length=255)
    width: int | None = Field(default=None, ge=0, le=INT32)
    height: int | None = Field(default=None, ge=0, le=INT32)
    timestamp: int | None = Field(default=None, ge=-INT64, le=INT64)
    meta: dict[str, Any] | None = None
    masks: list[Mask] | None = None
    preview: Preview | None = None

    _meta_limits = field_validator("meta")(_meta_within_limits)


class RoiMask(_Open):
    """The pixels of a mask (`id`) that belong to the ROI: those of RGB(A) `value` (-1: any)."""

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
    """A region of interest: labels with a polygon (`poly`: x,y pairs, -999999999 between polygons), a `shape`
    (box, ellipse or key points), a mask, or none of them (labels of the whole frame). `label` is accepted for
    `labels`; the API always answers `labels`."""

    id: str | None = None
    labels: list[Label] = Field(default_factory=list, validation_alias=AliasChoices("labels", "label"))
    confidence: float | None = Field(default=None, ge=0, le=1)
    sources: list[str] | None = None
    poly: list[float] | None = None
    shape: RoiShape | None = None
    mask: RoiMask | None = None
    meta: dict[str, Any] | None = None

    _meta_limits = field_validator("meta")(_meta_within_limits)

    @field_validator("labels", mode="before")
    @classmethod
    def _one_label(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("labels")
    @classmethod
    def _not_too_many(cls, labels):
        problem = limits.labels_problem(labels)
        if problem:
            raise ValueError(problem)
        return labels

    @field_validator("poly")
    @classmethod
    def _polygons(cls, poly):
        if poly is None:  # no polygon: a frame label, or an ROI of a mask
            return None
        for part in split_poly(poly) if POLY_SEPARATOR in poly else (poly,):
            if len(part) % 2:
                raise ValueError(f"a polygon has an odd number of coordinates ({len(part)}); expected x,y pairs")
            if len(part) < 4:
                raise ValueError("a polygon needs at least two points")
        problem = limits.poly_problem(poly, POLY_SEPARATOR)
        if problem:
            raise ValueError(problem)
        return compact(poly)


def _server_fields_ignored(schema: dict) -> None:
    """For the API schema: the server's fields may come back in what a client sends, and are ignored."""
    for name in SERVER_FIELDS:
        schema["properties"].setdefault(name, {"description": "Set by the server; ignored when sent"})


class FrameInput(BaseModel):
    """A frame in ClearML Hyper-Datasets JSON, as a client sends it. A frame read from the API may be sent
    back as it is: the server's fields and the previews it made are ignored."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, json_schema_extra=_server_fields_ignored)

    id: FrameId | None = None
    context_id: ContextId | None = None
    timestamp: FrameTimestamp = 0
    num_frames: FrameCount | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    sources: list[Source] = Field(min_length=1)
    rois: list[Roi] = Field(default_factory=list, max_length=ROI_LIMIT)

    _meta_limits = field_validator("meta")(_meta_within_limits)

    @model_validator(mode="after")
    def _references(self):
        ids = [source.id for source in self.sources]
        duplicates = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else None
        if duplicates:
            raise ValueError(f"sources: duplicate source id {duplicates[0]!r}")
        for index, roi in enumerate(self.rois):
            for name in roi.sources or []:
                if name not in ids:
                    raise ValueError(
                        f"rois[{index}].sources: source id {name!r} is not one of the frame's sources ({', '.join(ids)})"
                    )
        return self


# -- what the API returns and what PATCH takes: documentation models, never used to validate -----------------

PREVIEW_STATUS = "Set while the source's preview is not there: pending (a worker will make it) or failed"


class FramePreview(Preview):
    """A small image of a source or mask: the client's, or one a worker made (`generated`)."""

    generated: bool = Field(default=False, description="True when a worker made it (`uri` is then a signed link)")


class FrameMask(Mask):
    """A mask of a source as the API returns it, with the preview a worker made of it or its status."""

    preview: FramePreview | None = None
    preview_status: Literal["pending", "failed"] | None = Field(default=None, description=PREVIEW_STATUS)
    preview_error: str | None = Field(default=None, description="Why the worker could not make the preview")


class FrameSource(Source):
    """A source as the API returns it: `width`/`height` are the ones a worker measured when none were given."""

    masks: list[FrameMask] | None = None
    preview: FramePreview | None = None
    preview_status: Literal["pending", "failed"] | None = Field(default=None, description=PREVIEW_STATUS)
    preview_error: str | None = Field(default=None, description="Why the worker could not make the preview")


class FrameDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The dataset's id")
    version: str = Field(description="The version the frame was read in")


class Frame(FrameInput):
    """A frame as the API returns it: as stored, with the server's fields and, on each source and mask, the
    preview a worker made or its status."""

    model_config = ConfigDict(json_schema_extra=None)

    id: FrameId
    context_id: ContextId
    timestamp: FrameTimestamp
    num_frames: FrameCount
    meta: dict[str, Any]
    sources: list[FrameSource] = Field(min_length=1)
    rois: list[Roi]
    saved: int = Field(description="When it was last saved (epoch milliseconds). The ETag is this value in quotes; "
                                   "a PATCH that sends it back is refused (412) if someone saved the frame since")
    saved_in_version: str = Field(description="The version that saved this state of the frame")
    dataset: FrameDataset
    change: Literal["added", "edited", "deleted"] | None = Field(default=None, description=(
        "Only in a frame list asked for with `changed`: what this version did to the frame against its parent"))


def _changes_only(schema: dict) -> None:
    _server_fields_ignored(schema)
    schema.pop("required", None)


class FrameChanges(FrameInput):
    """Changes to a stored frame: the keys given replace the stored ones, `meta` is merged key by key, and
    the result must be a valid frame."""

    model_config = ConfigDict(json_schema_extra=_changes_only)

    id: FrameId
    saved: int = Field(description="The `saved` value the frame was read with: if someone saved it since, "
                                   "nothing is written (412)")


def _id_required(schema: dict) -> None:
    _changes_only(schema)
    schema["required"] = ["id"]


class FrameUpdate(FrameChanges):
    """Changes to the stored frame `id` (see FrameChanges)."""

    model_config = ConfigDict(json_schema_extra=_id_required)


def _drop_server_source_keys(frame: dict) -> None:
    """A frame read from the API carries previews the workers made and their status: not the user's data."""
    for entry in [*frame["sources"], *(m for s in frame["sources"] for m in s.get("masks") or [])]:
        for key in SERVER_SOURCE_KEYS:
            entry.pop(key, None)
        preview = entry.get("preview")
        if isinstance(preview, dict) and preview.get("generated"):
            del entry["preview"]
        elif isinstance(preview, dict):
            preview.pop("generated", None)  # only the server says a preview is its own


def is_frame_label(roi: dict) -> bool:
    """An ROI with no poly, no shape and no mask labels the whole frame."""
    return not roi.get("poly") and not roi.get("shape") and not roi.get("mask")


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
    unstorable = limits.unstorable_text(data)
    if unstorable:
        raise FrameError([{"field": unstorable[0] or "frame", "message": unstorable[1]}])
    try:  # pydantic-core's validator and serializer without the model methods' wrappers (0.8 us of a frame's 12)
        frame = FrameInput.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise FrameError(_errors(exc)) from None
    canonical = FrameInput.__pydantic_serializer__.to_python(frame, exclude_unset=True)
    _drop_server_source_keys(canonical)
    if canonical.get("id") is None:  # absent or null: the server names the frame
        canonical["id"] = new_id()
    if canonical.get("num_frames") is None:
        canonical["num_frames"] = 1
    canonical.setdefault("timestamp", 0)
    canonical.setdefault("meta", {})
    canonical.setdefault("rois", [])
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
