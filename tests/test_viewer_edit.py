"""The annotator's pure modules, run in Chromium (page.evaluate imports them from the live server):
static/js/viewer/history.js (undo and redo) and static/js/viewer/edit.js (moving shapes and vertices inside the
image, the checks shown beside a field before anything is saved)."""
from __future__ import annotations

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
