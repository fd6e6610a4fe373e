"""The shapes an ROI may carry beside ClearML's `poly`: a box (turned by an angle), an ellipse, key points.

ClearML's frame JSON stores every region as `poly`; an ROI drawn as a box, an ellipse or key points keeps that
in `shape` (`{"type": "box", "xywh": [...], "angle": deg}`, `{"type": "ellipse", "xyrrt": [...]}`,
`{"type": "points", "xy": [...]}`), so the viewer and the annotator draw and edit what was drawn. Coordinates
are the source's pixels; angles are degrees, clockwise (image y points down).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .limits import points_problem


class _Open(BaseModel):
    """Keeps keys we do not know, as frames.schema's models do."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


def compact(values: list[float]) -> list[float]:
    """Whole numbers as ints, so coordinates sent as ints come back as ints."""
    return [int(v) if float(v).is_integer() else v for v in values]


def _sizes_not_negative(values: list[float], what: str) -> list[float]:
    """The third and fourth values are sizes (a box's width and height, an ellipse's radii)."""
    if values[2] < 0 or values[3] < 0:
        raise ValueError(f"{what} cannot be negative")
    return compact(values)


class BoxShape(_Open):
    """A box: `xywh` = [left, top, width, height] in the source's pixels, turned `angle` degrees clockwise
    about its centre (image y points down)."""

    type: Literal["box"]
    xywh: list[float] = Field(min_length=4, max_length=4)
    angle: float | None = None

    @field_validator("xywh")
    @classmethod
    def _size(cls, xywh):
        return _sizes_not_negative(xywh, "width and height")


class EllipseShape(_Open):
    """An ellipse: `xyrrt` = [centre x, centre y, x radius, y radius, angle in degrees clockwise]."""

    type: Literal["ellipse"]
    xyrrt: list[float] = Field(min_length=4, max_length=5)

    @field_validator("xyrrt")
    @classmethod
    def _radii(cls, xyrrt):
        return _sizes_not_negative(xyrrt, "the radii")


class PointsShape(_Open):
    """Key points: `xy` = [x0, y0, x1, y1, ...] (an object's landmarks; not a polygon)."""

    type: Literal["points"]
    xy: list[float] = Field(min_length=2)

    @field_validator("xy")
    @classmethod
    def _pairs(cls, xy):
        if len(xy) % 2:
            raise ValueError(f"an odd number of coordinates ({len(xy)}); expected x,y pairs")
        problem = points_problem(xy)
        if problem:
            raise ValueError(problem)
        return compact(xy)


# The shape an ROI was drawn as, beside ClearML's `poly` (which may carry the same area as a polygon for
# ClearML's tools): the viewer draws the shape when there is one.
RoiShape = Annotated[BoxShape | EllipseShape | PointsShape, Field(discriminator="type")]
