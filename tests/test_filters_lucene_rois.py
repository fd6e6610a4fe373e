"""ROI rules in Lucene (roi_query): the API, the Frames tab and a Python reference computed from the frames
agree on which frames have an ROI satisfying the rule (every condition on the same ROI); bad queries answer 400
naming the rule's field, in the API and on the page."""
import fnmatch
import json
import random
from urllib.parse import urlencode

import pytest
from luqum import tree
from luqum.parser import parser
from luqum.utils import UnknownOperationResolver

from frames import services
from frames.selectors import SYSTEM

from .clients import api_client
from .test_query_parity import api_answer, page_answer

pytestmark = pytest.mark.django_db

LABELS = ["car", "person", "bike", "truck"]


def seeded_frames(seed=13, count=80):
    rnd = random.Random(seed)
    frames = []
    for i in range(count):
        rois = []
        for _ in range(rnd.randint(0, 3)):
            roi = {"labels": rnd.sample(LABELS, rnd.choice([1, 1, 2])), "poly": [0, 0, 9, 0, 9, 9]}
            if rnd.random() < 0.85:
                roi["confidence"] = round(rnd.random(), 2)
            meta = {}
            if rnd.random() < 0.7:
                meta["occluded"] = rnd.random() < 0.4
            if rnd.random() < 0.6:
                meta["size"] = rnd.randint(1, 8)
            if rnd.random() < 0.5:
                meta["kind"] = rnd.choice(["parked", "moving"])
            if meta:
                roi["meta"] = meta
            if rnd.random() < 0.1:
                roi["labels"] = []  # unlabelled ROIs are not seen by ROI rules
            rois.append(roi)
        frames.append({"id": f"f{i:03d}", "context_id": f"ctx-{i % 5}", "timestamp": i,
                       "meta": {"weather": rnd.choice(["sunny", "rain"])},
                       "sources": [{"id": "default", "uri": f"s3://bucket/{i}.jpg"}], "rois": rois})
    return frames


FRAMES = seeded_frames()


# -- a reference: the Lucene query evaluated on each ROI dict in Python ---------------------------------------

def _number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def _value(roi, field):
    if field in ("labels", "label"):
        return roi.get("labels", [])
    if field == "confidence":
        return roi.get("confidence")
    if field.startswith("meta."):
        value = roi.get("meta") or {}
        for key in field[5:].split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value
    raise AssertionError(field)


def _equals(value, text, quoted):
    if isinstance(value, list):
        return any(_equals(v, text, quoted) for v in value)
    if isinstance(value, str):
        return fnmatch.fnmatchcase(value, text) if not quoted and ("*" in text or "?" in text) else value == text
    if isinstance(value, bool):
        return not quoted and text == str(value).lower()
    number = None if quoted else _number(text)
    return value is not None and number is not None and value == number


def _in_range(value, node):
    if isinstance(value, list):
        return any(_in_range(v, node) for v in value)
    if value is None or isinstance(value, bool):
        return False
    for bound, include, sign in ((node.low, node.include_low, 1), (node.high, node.include_high, -1)):
        text = str(bound.value)
        if text == "*":
            continue
        limit = _number(text)
        if isinstance(value, str) or limit is None:
            return False
        diff = (value - limit) * sign
        if diff < 0 or (diff == 0 and not include):
            return False
    return True


def roi_matches(node, roi, field="labels"):
    if isinstance(node, tree.SearchField):
        return roi_matches(node.expr, roi, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup)):
        return roi_matches(node.expr, roi, field)
    if isinstance(node, tree.AndOperation):
        return all(roi_matches(c, roi, field) for c in node.children)
    if isinstance(node, tree.OrOperation):
        return any(roi_matches(c, roi, field) for c in node.children)
    if isinstance(node, (tree.Not, tree.Prohibit)):
        return not roi_matches(node.a, roi, field)
    value = _value(roi, field)
    if isinstance(node, tree.Range):
        return _in_range(value, node)
    if isinstance(node, tree.Phrase):
        return _equals(value, node.value[1:-1], True)
    if node.value == "*":
        return value not in (None, [])
    return _equals(value, node.value, False)


def reference(filters):
    """Frame ids the filters match, computed from the frame dicts."""
    def rule_ok(frame, rule):
        node = UnknownOperationResolver()(parser.parse(rule["roi_query"])) if rule.get("roi_query") else None
        low, high = rule.get("conf_range", [None, None])
        hit = any(
            roi["labels"]
            and all(label in roi["labels"] for label in rule.get("labels", []))
            and (low is None or (roi.get("confidence") is not None and low <= roi["confidence"] <= high))
            and (node is None or roi_matches(node, roi))
            for roi in frame["rois"]
        )
        return hit != (rule.get("logic") == "exclude")

    def block_ok(frame, block):
        rules = block.get("rois", []) + ([{"roi_query": block["roi_query"]}] if block.get("roi_query") else [])
        weather = block.get("frame_query", "").removeprefix("meta.weather:")
        return all(rule_ok(frame, r) for r in rules) and (not weather or frame["meta"]["weather"] == weather)

    return sorted(f["id"] for f in FRAMES if any(block_ok(f, b) for b in filters))


QUERIES = [
    "labels:car AND confidence:[0.5 TO 1]",
    "meta.occluded:true",
    "car AND NOT meta.occluded:true",
    "labels:car AND labels:person",
    "labels:tr* OR confidence:[0.9 TO *]",
    "meta.size:[3 TO 5] AND NOT labels:bike",
    "meta.kind:parked AND (labels:person OR labels:bike)",
    'meta.kind:"moving" AND confidence:{0.2 TO 0.7}',
    "NOT confidence:*",
    "labels:(car OR bike) AND meta.size:[* TO 2]",
]
FILTERS = [[{"rois": [{"roi_query": q}]}] for q in QUERIES] + [
    [{"rois": [{"roi_query": "labels:person AND meta.occluded:true", "logic": "exclude"}]}],
    [{"rois": [{"labels": ["car"], "conf_range": [0.2, 0.8], "roi_query": "meta.occluded:false"}]}],
    [{"roi_query": "bike AND meta.size:[4 TO *]", "frame_query": "meta.weather:rain"}, {"rois": [{"roi_query": "truck AND confidence:[0.8 TO 1]"}]}],
    [{"rois": [{"roi_query": "car"}, {"roi_query": "person AND NOT meta.kind:moving"}]}],
]


@pytest.fixture
def version(admin_user):
    dataset = services.dataset_create(user=SYSTEM, name="roi-lucene")
    draft = dataset.versions.get()
    services.frames_add(user=SYSTEM, version=draft, frames=FRAMES)
    return draft


@pytest.fixture
def api(admin_user):
    return api_client(admin_user)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f)[:70])
def test_api_page_count_and_reference_agree(api, admin_client, version, filters):
    params = {"filters": json.dumps(filters), "sort": "id", "limit": "1000"}
    expected = reference(filters)
    assert 0 < len(expected) < len(FRAMES)  # every case tells frames apart
    assert api_answer(api, version, params) == ("frames", expected)
    assert page_answer(admin_client, version, params) == ("frames", expected)
    count = admin_client.get(f"/versions/{version.pk}/frames/count/?{urlencode({'filters': json.dumps(filters)})}").json()
    assert count["count"] == len(expected)


def test_the_cases_are_not_trivial():
    answers = {tuple(reference(f)) for f in FILTERS}
    assert len(answers) == len(FILTERS)


def test_conditions_hold_on_the_same_roi(api, version):
    """A frame with a car ROI and another, occluded ROI is not a frame with an occluded car."""
    frame = {"id": "split", "rois": [{"labels": ["car"], "poly": [0, 0, 1, 0, 1, 1], "meta": {"occluded": False}},
                                      {"labels": ["person"], "poly": [0, 0, 1, 0, 1, 1], "meta": {"occluded": True}}],
             "sources": [{"id": "default", "uri": "s3://b/split.jpg"}]}
    services.frames_add(user=SYSTEM, version=version, frames=[frame])
    found = api_answer(api, version, {"filters": json.dumps([{"rois": [{"roi_query": "car AND meta.occluded:true"}]}]), "limit": "1000"})[1]
    assert "split" not in found
    found = api_answer(api, version, {"filters": json.dumps([{"rois": [{"roi_query": "car AND meta.occluded:false"}]}]), "limit": "1000"})[1]
    assert "split" in found


BAD = [
    ("labels:(car", "filters[0].rois[0].roi_query"),
    ("colour:red", "filters[0].rois[0].roi_query"),
    ("confidence:high", "filters[0].rois[0].roi_query"),
    ("confidence:ca*", "filters[0].rois[0].roi_query"),
]


@pytest.mark.parametrize("query, field", BAD)
def test_a_bad_roi_query_is_named_in_the_api_and_on_the_page(api, admin_client, version, query, field):
    params = {"filters": json.dumps([{"rois": [{"roi_query": query}]}])}
    assert api_answer(api, version, params) == ("invalid", {field})
    assert page_answer(admin_client, version, params) == ("invalid", {field})
    response = api.get(f"/api/versions/{version.pk}/frames/?{urlencode(params)}")
    assert response.json()["errors"][0]["message"]  # says why


def test_a_bad_block_roi_query_is_named(api, version):
    params = {"filters": json.dumps([{"roi_query": "meta.:x"}])}
    assert api_answer(api, version, params) == ("invalid", {"filters[0].roi_query"})
