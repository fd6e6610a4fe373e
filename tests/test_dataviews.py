"""DataViews through the REST API: saved queries over versions that the server evaluates with the Frames tab's
own query code. Sequential order by context then timestamp across queries, seeded random draws that repeat
and respect the weights, the browser's selection for the same roi_query/frame_query, others' views hidden,
bad input named."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.selectors.dataview_draws import permuted

from .clients import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return api_client("alice")


def frame(frame_id, context, timestamp, *, label="car", confidence=0.9, weather="sunny"):
    return {"id": frame_id, "context_id": context, "timestamp": timestamp, "meta": {"weather": weather},
            "sources": [{"id": "default", "uri": f"s3://bucket/{frame_id}.jpg"}],
            "rois": [{"labels": [label], "confidence": confidence, "poly": [0, 0, 4, 0, 4, 4]}]}


def version_with(client, name, frames) -> str:
    dataset = services.dataset_create(user=client.user, name=name)
    version = dataset.versions.get()
    services.frames_add(user=client.user, version=version, frames=frames)
    return version.pk


def created(client, body) -> dict:
    answer = client.post("/api/dataviews/", body, format="json")
    assert answer.status_code == 201, answer.json()
    return answer.json()


def every_frame(client, view_id, limit=100) -> list[dict]:
    frames, cursor = [], None
    while True:
        answer = client.get(f"/api/dataviews/{view_id}/frames/", {"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.json()
        frames += answer.json()["results"]
        cursor = answer.json()["cursor"]
        if not cursor:
            return frames


def test_sequential_order_is_by_context_then_timestamp_across_two_queries(alice):
    a = version_with(alice, "a", [frame("a-late", "c1", 2), frame("a-c3", "c3", 0), frame("a-early", "c1", 0)])
    b = version_with(alice, "b", [frame("b-c2", "c2", 5), frame("b-middle", "c1", 1)])
    view = created(alice, {"name": "two", "queries": [{"version": a}, {"version": b}]})
    assert view["iteration_order"] == "sequential" and view["owner"] == "alice"

    frames = every_frame(alice, view["id"])
    assert [f["id"] for f in frames] == ["a-early", "b-middle", "a-late", "b-c2", "a-c3"]
    assert [f["dataset"]["version"] for f in frames] == [a, b, a, b, a]
    assert [f["id"] for f in every_frame(alice, view["id"], limit=2)] == [f["id"] for f in frames], "pages of 2 keep the order"
    assert alice.get(f"/api/dataviews/{view['id']}/count/").json() == {"count": 5, "per_query": [3, 2], "length": 5}


def test_maximum_number_of_frames_caps_and_mapping_rules_rename_labels(alice):
    a = version_with(alice, "cap", [frame(f"f{i}", "c", i, label="taxi" if i % 2 else "car") for i in range(6)])
    view = created(alice, {"queries": [{"version": a}], "maximum_number_of_frames": 4,
                           "mapping_rules": [{"from_labels": ["taxi"], "to_label": "car"}], "labels": {"car": 1}})
    frames = every_frame(alice, view["id"], limit=3)
    assert [f["id"] for f in frames] == ["f0", "f1", "f2", "f3"]
    assert {label for f in frames for roi in f["rois"] for label in roi["labels"]} == {"car"}
    assert alice.get(f"/api/dataviews/{view['id']}/count/").json()["length"] == 4


def test_a_seed_repeats_its_random_frames_and_another_seed_draws_others(alice):
    a = version_with(alice, "random", [frame(f"f{i:02d}", f"c{i % 4}", i) for i in range(20)])
    view = created(alice, {"queries": [{"version": a}], "iteration_order": "random", "random_seed": 7})
    first = [f["id"] for f in every_frame(alice, view["id"], limit=20)]
    assert len(first) == 20, "a finite random view draws as many frames as its queries match"
    assert [f["id"] for f in every_frame(alice, view["id"], limit=6)] == first, "the same seed, other page sizes: the same draws"
    assert alice.patch(f"/api/dataviews/{view['id']}/", {"random_seed": 8}, format="json").status_code == 200
    assert [f["id"] for f in every_frame(alice, view["id"], limit=20)] != first


def test_weights_three_to_one_hold_over_4000_draws(alice):
    """Query A has weight 3, B weight 1: A's share of 4,000 draws is 0.75 give or take 0.03. The share's
    standard deviation is sqrt(0.75 * 0.25 / 4000) = 0.0068, so 0.03 is 4.4 of them: a correct draw fails
    this about once in 100,000 seeds, while a 2:1 or 4:1 draw (0.667, 0.8) is refused."""
    a = version_with(alice, "heavy", [frame(f"a{i}", "ca", i) for i in range(10)])
    b = version_with(alice, "light", [frame(f"b{i}", "cb", i) for i in range(30)])
    view = created(alice, {"queries": [{"version": a, "weight": 3}, {"version": b, "weight": 1}], "iteration_order": "random",
                           "infinite": True, "maximum_number_of_frames": 4000, "random_seed": 2026})
    frames = every_frame(alice, view["id"], limit=1000)
    assert len(frames) == 4000
    share = sum(f["dataset"]["version"] == a for f in frames) / len(frames)
    assert 0.72 <= share <= 0.78, share
    assert len({f["id"] for f in frames if f["dataset"]["version"] == b}) == 30, "every frame of B is drawn in 1,000 draws"


def test_roi_query_and_frame_query_select_what_the_frames_tab_selects(alice):
    frames = [frame(f"f{i}", "c", i, label=("car", "person")[i % 2], confidence=(0.3, 0.6, 0.9)[i % 3],
                    weather=("sunny", "rain")[i % 4 == 0]) for i in range(24)]
    a = version_with(alice, "parity", frames)
    query = {"roi_query": "labels:car AND confidence:[0.5 TO 1]", "frame_query": "meta.weather:sunny"}
    view = created(alice, {"queries": [{"version": a, **query}]})
    browser = alice.get(f"/api/versions/{a}/frames/", {**query, "limit": 1000}).json()["results"]
    assert [f["id"] for f in every_frame(alice, view["id"])] == [f["id"] for f in browser]
    assert 0 < len(browser) < 24
    assert alice.get(f"/api/dataviews/{view['id']}/count/").json()["count"] == len(browser)


def test_another_users_dataview_and_version_are_not_found(alice):
    a = version_with(alice, "mine", [frame("f1", "c", 1)])
    view = created(alice, {"queries": [{"version": a}]})
    bob = api_client("bob")
    url = f"/api/dataviews/{view['id']}/"
    for answer in (bob.get(url), bob.patch(url, {"name": "x"}, format="json"), bob.delete(url), bob.get(f"{url}frames/"),
                   bob.get(f"{url}count/")):
        assert answer.status_code == 404, answer.json()
    assert bob.get("/api/dataviews/").json()["count"] == 0
    refused = bob.post("/api/dataviews/", {"queries": [{"version": a}]}, format="json")
    assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "queries[0].version"
    assert alice.get("/api/dataviews/").json()["count"] == 1


@pytest.mark.parametrize("change,field", [
    ({"iteration_order": "shuffled"}, "iteration_order"),
    ({"queries": [{"version": "{a}", "roi_query": "labels:("}]}, "queries[0].roi_query"),
    ({"queries": [{"version": "{a}", "frame_query": "meta.weather:[1 TO"}]}, "queries[0].frame_query"),
    ({"queries": [{"version": "{a}", "weight": -1}]}, "queries[0].weight"),
    ({"queries": [{"version": "{a}", "dataset": "elsewhere"}]}, "queries[0].dataset"),
    ({"queries": []}, "queries"),
    ({"random_seed": "seven"}, "random_seed"),
    ({"maximum_number_of_frames": 0}, "maximum_number_of_frames"),
    ({"labels": {"car": "one"}}, "labels.car"),
    ({"mapping_rules": [{"from_labels": [], "to_label": "car"}]}, "mapping_rules[0].from_labels"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(alice, change, field):
    a = version_with(alice, "checked", [frame("f1", "c", 1)])
    view = created(alice, {"name": "kept", "queries": [{"version": a}]})
    body = {key: ([{**q, "version": a} for q in value] if key == "queries" else value) for key, value in change.items()}
    for answer in (alice.post("/api/dataviews/", {"queries": [{"version": a}], **body}, format="json"),
                   alice.patch(f"/api/dataviews/{view['id']}/", body, format="json")):
        assert answer.status_code == 400, answer.json()
        assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
    assert alice.get("/api/dataviews/").json()["count"] == 1
    assert alice.get(f"/api/dataviews/{view['id']}/").json() == view


def test_a_page_of_1000_random_draws_costs_a_few_queries_not_one_per_draw(alice, django_assert_max_num_queries):
    a = version_with(alice, "q-a", [frame(f"a{i}", "ca", i) for i in range(50)])
    b = version_with(alice, "q-b", [frame(f"b{i}", "cb", i) for i in range(50)])
    view = created(alice, {"queries": [{"version": a, "roi_query": "car"}, {"version": b, "weight": 2}],
                           "iteration_order": "random", "infinite": True})
    dataview = selectors.dataview_get(user=alice.user, dataview_id=view["id"])
    with django_assert_max_num_queries(12):
        page = selectors.dataview_frames(user=alice.user, dataview=dataview, limit=1000)
    assert len(page.frames) == 1000 and page.next_cursor


def test_an_infinite_sequential_view_starts_again_until_its_maximum(alice):
    a = version_with(alice, "loop", [frame("x", "c", 0), frame("y", "c", 1), frame("z", "c", 2)])
    view = created(alice, {"queries": [{"version": a}], "infinite": True, "maximum_number_of_frames": 7})
    assert [f["id"] for f in every_frame(alice, view["id"], limit=2)] == ["x", "y", "z", "x", "y", "z", "x"]


def test_a_view_whose_version_was_deleted_says_which_query(alice):
    kept = version_with(alice, "kept", [frame("k", "c", 0)])
    gone = version_with(alice, "gone", [frame("g", "c", 0)])
    view = created(alice, {"queries": [{"version": kept}, {"version": gone}]})
    services.dataset_delete(user=alice.user, dataset=selectors.dataset_get(user=alice.user, dataset_id=view["queries"][1]["dataset"]))
    for path in ("frames/", "count/"):
        answer = alice.get(f"/api/dataviews/{view['id']}/{path}")
        assert answer.status_code == 404 and answer.json()["errors"][0]["field"] == "queries[1].version", answer.json()


def test_the_label_enumeration_is_applied_to_every_roi_after_the_mapping_rules(alice):
    frames = [frame("f0", "c", 0, label="car"), frame("f1", "c", 1, label="taxi"), frame("f2", "c", 2, label="person"),
              frame("f3", "c", 3, label="tree")]
    frames[2]["rois"].append({"labels": ["person", "car"]})  # a frame label: the first enumerated label counts
    a = version_with(alice, "enumerated", frames)
    view = created(alice, {"queries": [{"version": a}], "labels": {"car": 1, "person": 2},
                           "mapping_rules": [{"from_labels": ["taxi"], "to_label": "car"}]})
    rois = [[(roi["labels"], roi["label_num"]) for roi in f["rois"]] for f in every_frame(alice, view["id"])]
    assert rois == [[(["car"], 1)], [(["car"], 1)], [(["person"], 2), (["person", "car"], 2)], [(["tree"], None)]]

    plain = created(alice, {"queries": [{"version": a}]})
    assert not any("label_num" in roi for f in every_frame(alice, plain["id"]) for roi in f["rois"]), "no enumeration, no numbers"


def test_a_finite_random_view_yields_each_frame_once_per_pass_by_its_seed(alice):
    a = version_with(alice, "pass-a", [frame(f"a{i:02d}", "ca", i) for i in range(10)])
    b = version_with(alice, "pass-b", [frame(f"b{i:02d}", "cb", i) for i in range(30)])
    view = created(alice, {"queries": [{"version": a, "weight": 3}, {"version": b, "weight": 1}],
                           "iteration_order": "random", "random_seed": 5})
    drawn = [f["id"] for f in every_frame(alice, view["id"], limit=7)]
    assert sorted(drawn) == [f"a{i:02d}" for i in range(10)] + [f"b{i:02d}" for i in range(30)], "each frame once"
    assert [f["id"] for f in every_frame(alice, view["id"], limit=40)] == drawn, "other page sizes: the same order"
    assert sum(d.startswith("a") for d in drawn[:20]) > sum(d.startswith("a") for d in drawn[20:]), "weight 3 comes early"
    assert alice.patch(f"/api/dataviews/{view['id']}/", {"random_seed": 6}, format="json").status_code == 200
    other = [f["id"] for f in every_frame(alice, view["id"], limit=40)]
    assert other != drawn and sorted(other) == sorted(drawn)


def test_a_finite_random_view_follows_the_weights_while_both_queries_have_frames(alice, settings):
    """A (weight 3) and B (weight 1) match 1,000 frames each; the first 1,200 draws of a pass take A's with
    probability 0.75 (A runs out only if it is drawn 1,000 times: 6.7 standard deviations above its mean of 900).
    The share's standard deviation is sqrt(0.75 * 0.25 / 1200) = 0.0125, so 0.70-0.80 is 4 of them either side,
    and a 2:1 draw (0.667) or one by the queries' sizes (0.5) is refused."""
    settings.HYPERDATA_PREVIEWS_AUTO = False
    a = version_with(alice, "w-a", [frame(f"a{i}", "ca", i) for i in range(1000)])
    b = version_with(alice, "w-b", [frame(f"b{i}", "cb", i) for i in range(1000)])
    view = created(alice, {"queries": [{"version": a, "weight": 3}, {"version": b, "weight": 1}], "iteration_order": "random",
                           "maximum_number_of_frames": 1200, "random_seed": 99})
    drawn = every_frame(alice, view["id"], limit=1000)
    assert len(drawn) == 1200 and len({(f["dataset"]["version"], f["id"]) for f in drawn}) == 1200, "no frame twice"
    share = sum(f["dataset"]["version"] == a for f in drawn) / len(drawn)
    assert 0.70 <= share <= 0.80, share


@pytest.mark.parametrize("size", [1, 2, 3, 5, 17, 64, 1000, 4097])
def test_the_pass_permutation_is_a_permutation_that_depends_on_its_key(size):
    order = [permuted(i, size, "7:0") for i in range(size)]
    assert sorted(order) == list(range(size))
    if size > 16:
        assert order != [permuted(i, size, "8:0") for i in range(size)] and order != list(range(size))


def test_a_random_pass_keeps_the_counts_it_started_with(alice):
    """The counts are read on the first page and carried in the cursor: frames added to the draft mid-pass do not
    reshuffle the rest of it (no frame twice, none of the first frames lost), and later pages count nothing."""
    a = version_with(alice, "growing", [frame(f"f{i:02d}", "c", i) for i in range(30)])
    view = created(alice, {"queries": [{"version": a}], "iteration_order": "random", "random_seed": 11})
    first = alice.get(f"/api/dataviews/{view['id']}/frames/", {"limit": 10}).json()
    services.frames_add(user=alice.user, version=selectors.version_get(user=alice.user, version_id=a),
                        frames=[frame(f"new{i}", "c", 100 + i) for i in range(10)])
    rest = every_frame_from(alice, view["id"], first["cursor"], limit=10)
    drawn = [f["id"] for f in first["results"] + rest]
    assert sorted(drawn) == [f"f{i:02d}" for i in range(30)], drawn
    again = [f["id"] for f in every_frame(alice, view["id"], limit=40)]
    assert len(again) == 40 and len(set(again)) == 40, "a new pass counts the frames the draft has now"


def test_random_pages_after_the_first_read_the_drawn_frames_not_the_query_again(alice):
    """The first page of a random pass reads each query's matched frames once (kept in the cache); later pages
    fetch only the frames drawn, so a page costs the same at a million frames. A page that ran the query's filter
    (the ROI label rule) again would walk the whole query."""
    a = version_with(alice, "kept-ids", [frame(f"f{i:02d}", "c", i, label="car" if i % 3 else "bus") for i in range(30)])
    for infinite in (False, True):
        view = created(alice, {"queries": [{"version": a, "roi_query": "car"}], "iteration_order": "random",
                               "infinite": infinite, "random_seed": 1})
        first = alice.get(f"/api/dataviews/{view['id']}/frames/", {"limit": 5}).json()
        with CaptureQueriesContext(connection) as queries:
            second = alice.get(f"/api/dataviews/{view['id']}/frames/", {"limit": 5, "cursor": first["cursor"]}).json()
        assert len(second["results"]) == 5 and all(f["rois"][0]["labels"] == ["car"] for f in second["results"])
        assert not [q["sql"] for q in queries.captured_queries if "roilabel" in q["sql"]], "the filter ran again"
        if not infinite:
            drawn = [f["id"] for f in every_frame(alice, view["id"], limit=7)]
            assert sorted(drawn) == [f"f{i:02d}" for i in range(30) if i % 3], "a finite pass: each matching frame once"


def every_frame_from(client, view_id, cursor, limit) -> list[dict]:
    frames = []
    while cursor:
        answer = client.get(f"/api/dataviews/{view_id}/frames/", {"limit": limit, "cursor": cursor}).json()
        frames += answer["results"]
        cursor = answer["cursor"]
    return frames
