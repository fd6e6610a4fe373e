"""Reading what the frame page drew: the overlay canvas of each source's stage, sampled where an ROI's
coordinates say its outline is.

Where a source pixel lands on screen is computed from OpenSeadragon's own placement of the image (the tiled
image's bounds in the viewer), not from the viewer module's transform, so a misaligned overlay fails.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field

import numpy as np

from frames.schema import split_poly
from viewer.tiles import label_colour

# Wait until every source's stage has opened its picture and drawn once.
READY = """async () => {
    for (let i = 0; i < 200 && !window.hyperdataViewer; i++) await new Promise((r) => setTimeout(r, 50));
    const page = window.hyperdataViewer;
    if (!page) throw new Error("the frame page's viewer did not start");
    // page.evaluate has no timeout of its own: a picture that never opens must fail the test, not hang it
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error("a source's picture did not open in 60 s: "
        + page.views.filter((v) => v.stage).map((v) => `${v.id}=${v.figure.dataset.shown || "not shown"}`).join(", "))), 60000));
    await Promise.race([Promise.all(page.views.filter((v) => v.stage).map((v) => v.ready)), late]);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return page.views.map((v) => v.id);
}"""

# The overlay pixels (RGBA) of source `id` at source points, placed by OpenSeadragon's image bounds.
SAMPLE = """async ([id, points]) => {
    const view = window.hyperdataViewer.views.find((v) => v.id === id);
    const stage = view.stage;
    // While the view animates the overlay shows its last sharp drawing moved along (stage.js): sample at rest.
    for (let i = 0; i < 100 && stage.animating; i++) await new Promise((r) => setTimeout(r, 50));
    stage.draw();
    const item = stage.viewer.world.getItemAt(0);
    const rect = stage.viewer.viewport.viewportToViewerElementRectangle(item.getBounds(true));
    const scale = rect.width / stage.size.width;
    const dpr = window.devicePixelRatio || 1;
    const ctx = stage.overlay.getContext("2d");
    return points.map(([x, y]) => {
        const sx = Math.round((rect.x + x * scale) * dpr), sy = Math.round((rect.y + y * scale) * dpr);
        // the most opaque pixel of the 3x3 around the point: a 2-pixel line may fall between pixel centres
        let best = [0, 0, 0, 0];
        const data = ctx.getImageData(sx - 1, sy - 1, 3, 3).data;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > best[3]) best = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        return best;
    });
}"""


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def close(rgba, colour: str, tolerance: int = 40) -> bool:
    return rgba[3] >= 200 and all(abs(a - b) <= tolerance for a, b in zip(rgba[:3], hex_rgb(colour)))


def wait_for_viewer(page) -> list[str]:
    """The ids of the page's sources, once each stage shows its picture."""
    return page.evaluate(READY)


def sample(page, source_id: str, points: list[tuple[float, float]]) -> list[list[int]]:
    return page.evaluate(SAMPLE, [source_id, [list(p) for p in points]])


def edge_midpoints(polygon: list[float]) -> list[tuple[float, float]]:
    points = list(zip(polygon[0::2], polygon[1::2]))
    return [((x0 + x1) / 2, (y0 + y1) / 2) for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1])]


def drawn_on(page, source_id: str) -> list[dict]:
    """The ROIs drawn on a source: index, label text, kind and colour, as the page's layer holds them."""
    return page.evaluate(
        """(id) => window.hyperdataViewer.views.find((v) => v.id === id).layer.visibleShapes()
              .map((s) => ({index: s.index, text: s.text, kind: s.kind, colour: s.colour}))""",
        source_id,
    )


def assert_outlines_drawn(page, rois: list[dict], source_id: str, first_id: str) -> None:
    """Every polygon of the ROIs on this source is outlined in its label's colour where its coordinates say:
    most midpoints of its edges are painted in that colour (another ROI may be drawn over a few)."""
    on_source = [(i, roi) for i, roi in enumerate(rois) if roi.get("poly") and source_id in (roi.get("sources") or [first_id])]
    assert [d["index"] for d in drawn_on(page, source_id)] == [i for i, _ in on_source]
    for index, roi in on_source:
        colour = label_colour(roi["labels"][0])
        for part in split_poly(roi["poly"]):
            midpoints = edge_midpoints(part)
            hits = [close(rgba, colour) for rgba in sample(page, source_id, midpoints)]
            assert sum(hits) * 2 >= len(hits), (index, roi["labels"], part, hits)


# ------------------------------------------------------------------ where things are, and what is drawn there

# Whether source `id`'s view has stopped moving (OpenSeadragon's springs reach their target exactly when done)
# and every tile it needs there is loaded.
SETTLED = """(id) => {
    const viewer = window.hyperdataViewer.views.find((v) => v.id === id).stage.viewer;
    const now = viewer.viewport.getBounds(true), target = viewer.viewport.getBounds(false);
    const item = viewer.world.getItemAt(0);
    return ["x", "y", "width", "height"].every((k) => now[k] === target[k]) && Boolean(item && item.getFullyLoaded());
}"""

# Where OpenSeadragon shows source `id`'s image: its origin and scale in the viewer element, and where that
# element is on the page (CSS pixels).
PLACEMENT = """(id) => {
    const stage = window.hyperdataViewer.views.find((v) => v.id === id).stage;
    const rect = stage.viewer.viewport.viewportToViewerElementRectangle(stage.viewer.world.getItemAt(0).getBounds(true));
    const box = stage.viewer.canvas.getBoundingClientRect();
    return {x: rect.x, y: rect.y, scale: rect.width / stage.size.width, left: box.left, top: box.top, width: box.width, height: box.height};
}"""

# The picture OpenSeadragon drew for source `id` (its drawer's canvas, not the overlay), as base64 RGBA.
PICTURE = """(id) => {
    const canvas = window.hyperdataViewer.views.find((v) => v.id === id).stage.viewer.drawer.canvas;
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let text = "";
    for (let i = 0; i < data.length; i += 32768) text += String.fromCharCode(...data.subarray(i, i + 32768));
    return {width: canvas.width, height: canvas.height, data: btoa(text)};
}"""


def settle(page, source_id: str) -> None:
    """Wait until the source's view stopped zooming and panning, and was drawn once more."""
    page.wait_for_function(SETTLED, arg=source_id)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


class Placement:
    """Source pixels to viewer-element and page (CSS) pixels, as OpenSeadragon placed the image."""

    def __init__(self, page, source_id: str):
        self.__dict__.update(page.evaluate(PLACEMENT, source_id))

    def screen(self, x: float, y: float) -> tuple[float, float]:
        return self.x + x * self.scale, self.y + y * self.scale

    def page(self, x: float, y: float) -> tuple[float, float]:
        sx, sy = self.screen(x, y)
        return self.left + sx, self.top + sy

    def on_screen(self, x: float, y: float, margin: float = 4) -> bool:
        sx, sy = self.screen(x, y)
        return margin <= sx <= self.width - margin and margin <= sy <= self.height - margin


def picture(page, source_id: str):
    """The drawn picture of a source as an RGBA array (device pixels; devicePixelRatio is 1 in the tests)."""
    got = page.evaluate(PICTURE, source_id)
    return np.frombuffer(base64.b64decode(got["data"]), np.uint8).reshape(got["height"], got["width"], 4)


def along(polygon: list[tuple[float, float]], spacing: float) -> list[tuple[float, float]]:
    """Points along a closed outline, about `spacing` apart (each edge's midpoint at least)."""
    points = []
    for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1]):
        n = max(1, round(math.hypot(x1 - x0, y1 - y0) / spacing))
        points += [(x0 + (x1 - x0) * (i + 0.5) / n, y0 + (y1 - y0) * (i + 0.5) / n) for i in range(n)]
    return points


def inside(points: np.ndarray, polygons: list[list[tuple[float, float]]]) -> np.ndarray:
    """Which of the points [N, 2] are inside one shape made of `polygons`, by the even-odd rule (as the canvas
    fills a multi-part ROI)."""
    x, y = points[:, 0:1], points[:, 1:2]
    crossings = np.zeros(len(points), int)
    for polygon in polygons:
        a = np.asarray(polygon, float)
        b = np.roll(a, 1, axis=0)
        spans = (a[:, 1] > y) != (b[:, 1] > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) / (b[:, 1] - a[:, 1]) + a[:, 0]
        crossings += (spans & (x < cross_x)).sum(axis=1)
    return crossings % 2 == 1


def distance_to(points: np.ndarray, polygon: list[tuple[float, float]], closed: bool = True) -> np.ndarray:
    """The distance of each point [N, 2] to an outline (a closed polygon, or an open line, or one point)."""
    a = np.asarray(polygon, float)
    b = np.roll(a, -1, axis=0) if closed else np.vstack([a[1:], a[-1:]])
    d = b - a
    length2 = np.maximum((d ** 2).sum(axis=1), 1e-12)
    p = points[:, None, :]
    t = np.clip(((p - a) * d).sum(axis=2) / length2, 0, 1)
    return np.sqrt(((p - a - t[:, :, None] * d) ** 2).sum(axis=2)).min(axis=1)


@dataclass
class Shape:
    """What one ROI must look like on a source, in source pixels: the closed outlines stroked in `colour` (and
    filled lightly, even-odd, unless `filled` is False, as dashed diff outlines are not), the key points dotted."""

    colour: str
    outlines: list[list[tuple[float, float]]] = field(default_factory=list)
    dots: list[tuple[float, float]] = field(default_factory=list)
    filled: bool = True


def rotated(points, centre, degrees: float) -> list[tuple[float, float]]:
    """Points turned `degrees` clockwise on screen (image y points down) about `centre`."""
    a = math.radians(degrees)
    cx, cy = centre
    return [(cx + (x - cx) * math.cos(a) - (y - cy) * math.sin(a), cy + (x - cx) * math.sin(a) + (y - cy) * math.cos(a)) for x, y in points]


def poly_shape(colour: str, poly: list[float], **extra) -> Shape:
    return Shape(colour, [list(zip(part[0::2], part[1::2])) for part in split_poly(poly)], **extra)


def box_shape(colour: str, xywh, angle: float = 0, **extra) -> Shape:
    left, top, width, height = xywh
    corners = [(left, top), (left + width, top), (left + width, top + height), (left, top + height)]
    return Shape(colour, [rotated(corners, (left + width / 2, top + height / 2), angle)], **extra)


def ellipse_shape(colour: str, xyrrt, steps: int = 720, **extra) -> Shape:
    cx, cy, rx, ry, angle = (list(xyrrt) + [0])[:5]
    ring = [(cx + rx * math.cos(2 * math.pi * i / steps), cy + ry * math.sin(2 * math.pi * i / steps)) for i in range(steps)]
    return Shape(colour, [rotated(ring, (cx, cy), angle)], **extra)


def points_shape(colour: str, xy: list[float]) -> Shape:
    return Shape(colour, [], list(zip(xy[0::2], xy[1::2])), filled=False)


def outline_hits(page, source_id: str, shape: Shape, spacing: float = 5, colour: str | None = None) -> list[tuple[int, int, list]]:
    """Per outline of the shape: (points painted in its colour, points looked at, a few points missed with their
    pixel), for points about `spacing` CSS pixels apart along it that are on screen."""
    where = Placement(page, source_id)
    counts = []
    for outline in shape.outlines:
        points = [p for p in along(outline, spacing / where.scale) if where.on_screen(*p)]
        missed = [(p, rgba) for p, rgba in zip(points, sample(page, source_id, points) if points else []) if not close(rgba, colour or shape.colour)]
        counts.append((len(points) - len(missed), len(points), missed[:4]))
    return counts


def assert_outlined(page, source_id: str, shape: Shape, at_least: float = 0.9, seen: int = 8) -> None:
    """Every outline of the shape that is on screen is painted in its colour along its length."""
    for i, (hits, looked, missed) in enumerate(outline_hits(page, source_id, shape)):
        assert looked >= seen, (source_id, shape.colour, i, "outline not on screen", looked)
        assert hits >= at_least * looked, (source_id, shape.colour, i, hits, looked, missed)


def assert_not_outlined(page, source_id: str, shape: Shape, drawn: list[Shape] = (), margin: float = 6) -> int:
    """Nothing is painted in the shape's colour along its outlines (away from the `drawn` shapes' outlines, by
    `margin` CSS pixels): the shape is not drawn there. Returns how many points were looked at."""
    where = Placement(page, source_id)
    points = np.array([p for outline in shape.outlines for p in along(outline, 4 / where.scale) if where.on_screen(*p)] or np.zeros((0, 2)))
    far = np.ones(len(points), bool)
    for other in drawn:
        for outline in other.outlines:
            far &= distance_to(points, outline) * where.scale > margin
        if other.dots:
            far &= distance_to(points, other.dots, closed=False) * where.scale > margin + 5
    points = [tuple(p) for p in points[far].tolist()]
    painted = [(p, rgba) for p, rgba in zip(points, sample(page, source_id, points)) if close(rgba, shape.colour)]
    assert not painted, (source_id, shape.colour, painted[:4])
    return len(points)


def assert_dotted(page, source_id: str, shape: Shape) -> None:
    where = Placement(page, source_id)
    dots = [p for p in shape.dots if where.on_screen(*p)]
    assert dots, (source_id, "no key point on screen")
    assert all(close(rgba, shape.colour, 12) for rgba in sample(page, source_id, dots)), sample(page, source_id, dots)


def assert_nothing_else(page, source_id: str, shapes: list[Shape], step: float = 12, margin: float = 6) -> int:
    """Away from every outline and dot (by `margin` CSS pixels), the overlay on screen is clear outside the
    shapes and holds exactly one shape's light fill inside it: nothing is drawn where no ROI is, and each ROI's
    area is where its coordinates say. Returns how many points were looked at."""
    where = Placement(page, source_id)
    left, top = max(where.x, 0), max(where.y, 0)
    size = page.evaluate("(id) => window.hyperdataViewer.views.find((v) => v.id === id).stage.size", source_id)
    right = min(where.x + size["width"] * where.scale, where.width)
    bottom = min(where.y + size["height"] * where.scale, where.height)
    xs, ys = np.meshgrid(np.arange(left + step / 2, right, step), np.arange(top + step / 2, bottom, step))
    points = (np.stack([xs.ravel(), ys.ravel()], axis=1) - [where.x, where.y]) / where.scale
    far = np.ones(len(points), bool)
    for shape in shapes:
        for outline in shape.outlines:
            far &= distance_to(points, outline) * where.scale > margin
        if shape.dots:
            far &= distance_to(points, shape.dots, closed=False) * where.scale > margin + 5
    points = points[far]
    within = np.stack([inside(points, s.outlines) if s.filled and s.outlines else np.zeros(len(points), bool) for s in shapes]
                      or [np.zeros(len(points), bool)], axis=1)
    rgba = sample(page, source_id, [tuple(p) for p in points.tolist()])
    for point, rgba_at, hits in zip(points.tolist(), rgba, within):
        owners = [s for s, hit in zip(shapes, hits) if hit]
        if not owners:
            assert rgba_at[3] == 0, ("drawn where no ROI is", source_id, point, rgba_at)
        elif len(owners) == 1:
            colour = hex_rgb(owners[0].colour)
            assert 28 <= rgba_at[3] <= 56 and all(abs(a - b) <= 16 for a, b in zip(rgba_at, colour)), ("fill", source_id, point, rgba_at, owners[0].colour)
        else:
            assert rgba_at[3] > 0, ("overlap not filled", source_id, point, rgba_at)
    return len(points)
