"""The SDK's DataView against a live server: ClearML's calls (add_query by dataset and version names,
add_multi_query, set_iteration_parameters, set_labels, add_mapping_rule, to_list, get_iterator, get_count),
saved on the server the first time they are evaluated and read back by id."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from frames import services
from hyperdata_client import Dataset, DatasetVersion, DataView, NotFoundError, SingleFrame
from tests.sdk_live import sdk_user  # noqa: F401 (fixture)


def version_with(name: str, specs) -> DatasetVersion:
    """A dataset `name` whose draft holds a frame per (id, context, timestamp, labels)."""
    Dataset.create(dataset_name=name)
    draft = DatasetVersion.get_current(dataset_name=name)
    frames = []
    for frame_id, context, timestamp, labels in specs:
        frame = SingleFrame(id=frame_id, source=f"s3://bucket/{frame_id}.jpg", timestamp=timestamp, context_id=context)
        for label in labels:
            frame.add_annotation(box2d_xywh=[1, 1, 5, 5], labels=[label], confidence=0.9)
        frames.append(frame)
    assert draft.add_frames(frames) == []
    return draft


def test_sequential_dataview_by_names_is_saved_and_read_back_by_id(sdk_user, capsys):
    version_with("front", [("f-late", "c1", 2, ["car"]), ("f-c3", "c3", 0, ["car"]), ("f-early", "c1", 0, ["person"])])
    version_with("rear", [("r-c2", "c2", 5, ["car"]), ("r-mid", "c1", 1, ["taxi"])])
    view = DataView(iteration_order="sequential", iteration_infinite=False)
    view.add_query(dataset_name="front", version_name="Current", roi_query="car OR person")
    view.add_query(dataset_name="rear", roi_query="*")
    view.set_labels({"car": 1, "person": 2})
    view.add_mapping_rule(from_labels=["taxi"], to_label="car")

    frames = view.to_list()
    assert [f.id for f in frames] == ["f-early", "r-mid", "f-late", "r-c2", "f-c3"]
    assert view.id and f"id={view.id}" in capsys.readouterr().err
    assert frames[1].get_annotations()[0].labels == ["car"], "the mapping rule renamed taxi"
    assert view.get_count() == 5

    again = DataView.get(view.id)
    assert [f.id for f in again.to_list()] == [f.id for f in frames] and again.get_labels() == {"car": 1, "person": 2}
    assert [v.id for v in DataView.list()] == [view.id]


def test_random_dataview_repeats_with_its_seed_and_follows_the_weights(sdk_user):
    version_with("many", [(f"m{i:02d}", f"c{i % 3}", i, ["car"]) for i in range(30)])
    version_with("few", [(f"w{i}", "w", i, ["car"]) for i in range(5)])
    view = DataView(iteration_order="random")
    view.add_query(dataset_name="many", weight=1)
    view.add_query(dataset_name="few", weight=3)
    view.set_iteration_parameters(random_seed=11)
    first = [f.id for f in view.to_list()]
    assert len(first) == 35 == view.get_count()
    assert [f.id for f in view.to_list()] == first

    view.set_iteration_parameters(random_seed=12)
    assert [f.id for f in view.to_list()] != first, "a changed seed is saved and draws other frames"

    view.set_iteration_parameters(infinite=True, maximum_number_of_frames=4000)
    drawn = [f.id for f in view.get_iterator(page_size=1000)]
    share = sum(frame_id.startswith("w") for frame_id in drawn) / len(drawn)
    assert len(drawn) == 4000 and 0.72 <= share <= 0.78, share  # 0.75 +- 4.4 standard deviations (see test_dataviews)


def test_multi_query_needs_an_roi_for_each_rule(sdk_user):
    version_with("both", [("car-only", "c", 0, ["car"]), ("both", "c", 1, ["car", "person"]), ("person-only", "c", 2, ["person"])])
    view = DataView()
    view.add_multi_query(dataset_name="both", roi_queries=["car", {"roi_query": "person"}])
    assert [f.id for f in view.to_list()] == ["both"]


def test_another_users_dataview_is_not_found(sdk_user):
    version_with("private", [("p1", "c", 0, ["car"])])
    other = User.objects.create_user("other")
    dataset = services.dataset_create(user=other, name="theirs")
    theirs = services.dataview_create(user=other, data={"queries": [{"version": dataset.versions.get().pk}]})
    with pytest.raises(NotFoundError):
        DataView.get(theirs.pk)
    view = DataView()
    with pytest.raises(NotFoundError):
        view.add_query(dataset_name="theirs")


def test_label_enumeration_numbers_the_annotations_and_a_finite_random_view_has_no_repeats(sdk_user):
    version_with("numbered", [(f"n{i:02d}", "c", i, [("car", "taxi", "person", "tree")[i % 4]]) for i in range(24)])
    view = DataView(iteration_order="random", iteration_infinite=False, iteration_random_seed=3)
    view.add_query(dataset_name="numbered")
    view.set_labels({"car": 1, "person": 2})
    view.add_mapping_rule(from_labels=["taxi"], to_label="car")

    frames = view.to_list()
    assert sorted(f.id for f in frames) == [f"n{i:02d}" for i in range(24)], "one pass: every frame once"
    numbers = {a.labels[0]: a.label_num for f in frames for a in f.get_annotations()}
    assert numbers == {"car": 1, "person": 2, "tree": None}
    assert "label_num" not in frames[0].to_dict()["rois"][0], "the view's numbers are not written back to a frame"
    assert [f.id for f in view.get_iterator(page_size=5)] == [f.id for f in frames], "the seed repeats the pass"
