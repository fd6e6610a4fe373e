"""Reading what the frame page drew: the overlay canvas of each source's stage, sampled where an ROI's
coordinates say its outline is.

Where a source pixel lands on screen is computed from OpenSeadragon's own placement of the image (the tiled
image's bounds in the viewer), not from the viewer module's transform, so a misaligned overlay fails.
"""
from __future__ import annotations

from frames.schema import split_poly
from viewer.tiles import label_colour

# Wait until every source's stage has opened its picture and drawn once.
READY = """async () => {
    for (let i = 0; i < 200 && !window.hyperdataViewer; i++) await new Promise((r) => setTimeout(r, 50));
    const page = window.hyperdataViewer;
    await Promise.all(page.views.filter((v) => v.stage).map((v) => v.ready));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return page.views.map((v) => v.id);
}"""

# The overlay pixels (RGBA) of source `id` at source points, placed by OpenSeadragon's image bounds.
SAMPLE = """([id, points]) => {
    const view = window.hyperdataViewer.views.find((v) => v.id === id);
    const stage = view.stage;
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
