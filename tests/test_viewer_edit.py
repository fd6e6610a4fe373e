"""The annotator's pure modules, run in Chromium (page.evaluate imports them from the live server):
static/js/viewer/history.js (undo and redo) and static/js/viewer/edit.js (moving shapes and vertices inside the
image, the checks shown beside a field before anything is saved) and static/js/viewer/handles.js (new boxes and
ellipses from two corners, the handles of a selected shape and what dragging one does)."""
from __future__ import annotations

import pytest

from .test_viewer_module import module_page, run_module  # noqa: F401 - the page that imports the modules

SIZE = {"width": 100, "height": 80}
SEP = -999999999


def test_undo_redo_and_the_saved_marker(module_page):  # noqa: F811
    steps = run_module(module_page, "history.js", """(() => {
        const h = new m.History([{labels: ["a"]}], {limit: 3});
        const out = {start: [h.canUndo(), h.canRedo(), h.dirty]};
        const two = [{labels: ["a"]}, {labels: ["b"]}];
        h.record(two);
        two.push({labels: ["mutated after recording"]});
        h.record([{labels: ["c"]}]);
        out.undo1 = h.undo(); out.undo2 = h.undo(); out.undo3 = h.undo();
        out.redo = h.redo();
        h.record([{labels: ["branch"]}]);
        out.afterBranch = [h.canRedo(), h.current()];
        h.markSaved(); out.saved = h.dirty;
        h.undo(); out.dirtyAgain = h.dirty;
        for (const n of [1, 2, 3, 4]) h.record([{labels: [String(n)]}]);
        let back = 0; while (h.undo()) back += 1;
        out.kept = back;
        return out;
    })()""")
    assert steps["start"] == [False, False, False]
    assert steps["undo1"] == [{"labels": ["a"]}, {"labels": ["b"]}]  # as recorded, not as mutated later
    assert steps["undo2"] == [{"labels": ["a"]}] and steps["undo3"] is None
    assert steps["redo"] == [{"labels": ["a"]}, {"labels": ["b"]}]
    assert steps["afterBranch"] == [False, [{"labels": ["branch"]}]]  # a change after undo drops the redo branch
    assert steps["saved"] is False and steps["dirtyAgain"] is True
    assert steps["kept"] == 3  # the limit


def test_moving_shapes_stays_inside_the_image(module_page):  # noqa: F811
    moved = run_module(module_page, "edit.js", """[
        m.moveRoi({labels: ["p"], poly: [10, 10, 30, 10, 20, 30, ARG_SEP, 50, 50, 60, 50, 55, 60]}, 5, 4, ARG_SIZE),
        m.moveRoi({labels: ["p"], poly: [10, 10, 30, 10, 20, 30]}, 500, -500, ARG_SIZE),
        m.moveRoi({labels: ["b"], shape: {type: "box", xywh: [10, 10, 20, 20], angle: 30}}, -50, 0, ARG_SIZE),
        m.moveRoi({labels: ["e"], shape: {type: "ellipse", xyrrt: [50, 40, 10, 5, 0]}}, 3, 3, ARG_SIZE),
        m.moveRoi({labels: ["k"], shape: {type: "points", xy: [1, 2, 3, 4]}}, 2, 1, ARG_SIZE),
    ]""".replace("ARG_SEP", str(SEP)).replace("ARG_SIZE", "arg"), SIZE)
    assert moved[0]["poly"] == [15, 14, 35, 14, 25, 34, SEP, 55, 54, 65, 54, 60, 64]  # both parts, separator kept
    assert moved[1]["poly"] == [80, 0, 100, 0, 90, 20]  # stopped at the right and top edges, shape unchanged
    assert moved[2]["shape"] == {"type": "box", "xywh": [0, 10, 20, 20], "angle": 30}
    assert moved[3]["shape"]["xyrrt"] == [53, 43, 10, 5, 0]
    assert moved[4]["shape"]["xy"] == [3, 3, 5, 5]


def test_vertices_move_insert_and_delete(module_page):  # noqa: F811
    roi = {"labels": ["p"], "poly": [10, 10, 30, 10, 30, 30, 10, 30, SEP, 50, 50, 60, 50, 55, 60]}
    edits = run_module(module_page, "edit.js", """[
        m.moveVertex(arg.roi, 0, 2, [140, -5], arg.size),
        m.insertVertex(arg.roi, 1, 0, [55, 45], arg.size),
        m.deleteVertex(arg.roi, 0, 3),
        m.deleteVertex(arg.roi, 1, 0),
    ]""", {"roi": roi, "size": SIZE})
    assert edits[0]["poly"][:8] == [10, 10, 30, 10, 100, 0, 10, 30]  # clamped into the image
    assert edits[1]["poly"][9:] == [50, 50, 55, 45, 60, 50, 55, 60]
    assert edits[2]["poly"] == [10, 10, 30, 10, 30, 30, SEP, 50, 50, 60, 50, 55, 60]
    assert edits[3] is None  # a triangle keeps its three points


def test_bad_input_is_named_before_saving(module_page):  # noqa: F811
    problems = run_module(module_page, "edit.js", """[
        m.roiProblems({labels: ["car"], poly: [0, 0, 10, 0, 10, 10], confidence: 0.5}),
        m.roiProblems({labels: ["car", " "], poly: [0, 0, 10, 0], confidence: 1.5}),
        m.roiProblems({labels: ["box"], shape: {type: "box", xywh: [5, 5, 0, 10]}}),
        m.roiProblems({labels: ["e"], shape: {type: "ellipse", xyrrt: [5, 5, 3, 0, 0]}}),
        m.parseMeta('{"occluded": true}'), m.parseMeta("[1, 2]"), m.parseMeta('{"a": }'), m.parseMeta("  "),
    ]""")
    assert problems[0] == []
    assert problems[1] == [
        {"field": "labels[1]", "message": "a label cannot be empty"},
        {"field": "confidence", "message": "the confidence is a number from 0 to 1"},
        {"field": "poly[0]", "message": "a polygon needs at least 3 points"},
    ]
    assert problems[2] == [{"field": "shape.xywh", "message": "a box needs a width and a height"}]
    assert problems[3] == [{"field": "shape.xyrrt", "message": "an ellipse needs two radii"}]
    assert problems[4] == {"value": {"occluded": True}} and problems[7] == {"value": {}}
    assert problems[5] == {"error": "metadata is a JSON object: {...}"}
    assert problems[6]["error"].startswith("not valid JSON")


# ------------------------------------------------------------------ static/js/viewer/handles.js


def test_new_boxes_and_ellipses_from_any_two_corners_inside_the_image(module_page):  # noqa: F811
    shapes = run_module(module_page, "handles.js", """[
        m.boxShape([50, 40], [10, 10], arg), m.boxShape([10, 40], [50, 10], arg), m.boxShape([-20, 70], [30, 200], arg),
        m.ellipseShape([10, 10], [50, 40], arg), m.ellipseShape([50, 10], [10, 40], arg), m.ellipseShape([90, 70], [130, 100], arg),
        m.boxShape([10.123, 10], [20.456, 30], arg),
    ]""", SIZE)
    assert shapes[0] == shapes[1] == {"type": "box", "xywh": [10, 10, 40, 30], "angle": 0}  # whichever corner comes first
    assert shapes[2]["xywh"] == [0, 70, 30, 10]  # both corners snapped into the 100x80 image
    assert shapes[3] == shapes[4] == {"type": "ellipse", "xyrrt": [30, 25, 20, 15, 0]}
    assert shapes[5]["xyrrt"] == [95, 75, 5, 5, 0]
    assert shapes[6]["xywh"] == [10.12, 10, 10.33, 20]  # hundredths of a pixel


def test_the_handles_of_each_kind_of_shape(module_page):  # noqa: F811
    handles = run_module(module_page, "handles.js", """[
        {labels: ["p"], poly: [0, 0, 10, 0, 10, 10]},
        {labels: ["b"], shape: {type: "box", xywh: [10, 10, 20, 10], angle: 0}},
        {labels: ["b"], shape: {type: "box", xywh: [10, 10, 20, 10], angle: 90}},
        {labels: ["e"], shape: {type: "ellipse", xyrrt: [50, 40, 10, 5, 0]}},
        {labels: ["e"], shape: {type: "ellipse", xyrrt: [50, 40, 10, 5, 90]}},
        {labels: ["k"], shape: {type: "points", xy: [1, 2, 3, 4]}},
    ].map((roi) => m.handlesOf(roi))""")

    def rounded(hs):
        return [{**h, "point": [round(v, 6) + 0.0 for v in h["point"]]} for h in hs]

    assert rounded(handles[0]) == [
        {"kind": "vertex", "part": 0, "index": 0, "point": [0, 0]}, {"kind": "midpoint", "part": 0, "index": 0, "point": [5, 0]},
        {"kind": "vertex", "part": 0, "index": 1, "point": [10, 0]}, {"kind": "midpoint", "part": 0, "index": 1, "point": [10, 5]},
        {"kind": "vertex", "part": 0, "index": 2, "point": [10, 10]}, {"kind": "midpoint", "part": 0, "index": 2, "point": [5, 5]},
    ]
    assert rounded(handles[1]) == [{"kind": "corner", "index": i, "point": p} for i, p in enumerate([[10, 10], [30, 10], [30, 20], [10, 20]])]
    # Turned a quarter clockwise about its centre (20, 15): the top left corner goes to the top right.
    assert [h["point"] for h in rounded(handles[2])] == [[25, 5], [25, 25], [15, 25], [15, 5]]
    assert [(h["axis"], h["sign"], h["point"]) for h in rounded(handles[3])] == [(0, 1, [60, 40]), (0, -1, [40, 40]), (1, 1, [50, 45]), (1, -1, [50, 35])]
    assert [h["point"] for h in rounded(handles[4])] == [[50, 50], [50, 30], [45, 40], [55, 40]]
    assert rounded(handles[5]) == [{"kind": "point", "index": 0, "point": [1, 2]}, {"kind": "point", "index": 1, "point": [3, 4]}]


def test_a_vertex_is_taken_before_a_midpoint_near_it(module_page):  # noqa: F811
    found = run_module(module_page, "handles.js", """(() => {
        const handles = m.handlesOf({labels: ["p"], poly: [0, 0, 4, 0, 4, 30]});  // midpoint of the first edge: (2, 0)
        return [[1.5, 0], [2, 0.2], [0.5, 0.5], [20, 20], [4, 16]].map((p) => m.handleAt(handles, p, 3));
    })()""")
    assert found[0] == {"kind": "vertex", "part": 0, "index": 0, "point": [0, 0]}  # the midpoint is nearer, the vertex wins
    assert found[1]["kind"] == "midpoint" and found[1]["index"] == 0  # right on the midpoint
    assert found[2]["kind"] == "vertex" and found[2]["index"] == 0
    assert found[3] is None  # nothing within the tolerance
    assert found[4] == {"kind": "midpoint", "part": 0, "index": 1, "point": [4, 15]}


def test_dragging_handles_reshapes_and_keeps_the_rest(module_page):  # noqa: F811
    dragged = run_module(module_page, "handles.js", """(() => {
        const box = {labels: ["b"], shape: {type: "box", xywh: [30, 30, 30, 10], angle: 30}};
        const corners = m.handlesOf(box);
        const resized = m.dragHandle(box, corners[0], [25, 20], arg);
        const ellipse = {labels: ["e"], shape: {type: "ellipse", xyrrt: [50, 40, 10, 5, 0]}};
        const turned = {labels: ["e"], shape: {type: "ellipse", xyrrt: [50, 40, 10, 5, 90]}};
        const poly = {labels: ["p"], poly: [10, 10, 30, 10, 20, 30]};
        const points = {labels: ["k"], shape: {type: "points", xy: [1, 2, 3, 4]}};
        return {
            before: corners.map((h) => h.point), after: m.handlesOf(resized).map((h) => h.point), resized,
            rx: m.dragHandle(ellipse, m.handlesOf(ellipse)[0], [65, 47], arg).shape.xyrrt,
            ry: m.dragHandle(ellipse, m.handlesOf(ellipse)[3], [58, 31], arg).shape.xyrrt,
            turnedRx: m.dragHandle(turned, m.handlesOf(turned)[0], [50, 58], arg).shape.xyrrt,
            vertex: m.dragHandle(poly, m.handlesOf(poly)[4], [140, -5], arg).poly,
            point: m.dragHandle(points, m.handlesOf(points)[1], [7.777, 8], arg).shape.xy,
            untouched: [box, ellipse, poly, points],
        };
    })()""", SIZE)
    # A turned box's corner follows the pointer; the opposite corner stays where it was, the angle too.
    assert dragged["after"][0] == pytest.approx([25, 20], abs=0.02)
    assert dragged["after"][2] == pytest.approx(dragged["before"][2], abs=0.02)
    assert dragged["resized"]["shape"]["angle"] == 30 and dragged["resized"]["shape"]["xywh"] != [30, 30, 30, 10]
    assert dragged["rx"] == [50, 40, 15, 5, 0]  # one radius changes, the centre stays
    assert dragged["ry"] == [50, 40, 10, 9, 0]
    assert dragged["turnedRx"] == [50, 40, 18, 5, 90]  # measured along the turned axis
    assert dragged["vertex"] == [10, 10, 30, 10, 100, 0]  # snapped into the image
    assert dragged["point"] == [1, 2, 7.78, 8]
    assert dragged["untouched"][0]["shape"]["xywh"] == [30, 30, 30, 10] and dragged["untouched"][2]["poly"] == [10, 10, 30, 10, 20, 30]
