"""A draft's answers (counts, label statistics and distributions under filters, counted or derived from its parent)
hold for the version it becomes when it is published: its frames are the same. Publishing carries them over, so
the filters people used on the draft answer at once on the published version, for good; an answer given before
the draft's last write is never carried. The filters asked of a dataset's versions are counted ahead for the next
version it publishes."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frames import selectors, services
from frames.filters import parse_filters
from frames.services import stats as stat_services

from .test_stats_derived import family, frame, fresh  # noqa: F401  (family: a fixture)

pytestmark = [pytest.mark.django_db]

FILTERS = {
    "fog": [{"frame_query": "meta.weather:fog"}],
    "car, confident": [{"rois": [{"labels": ["car"], "conf_range": [0.5, 1]}]}],
    "speed 10-40 or bus": [{"frame_query": "meta.speed:[10 TO 40]"}, {"rois": [{"labels": ["bus"]}]}],
}
FRAME_TABLES = ("frames_frame", "frames_roilabel", "frames_framesource")


def answers(user, version, filters, *, counted=False) -> tuple:
    """What the Frames tab and the Statistics tab ask under a filter, as the services answer it (kept, carried or
    derived), or `counted` from the version's frames."""
    rules = parse_filters(filters)
    ask = selectors if counted else services
    roi_distribution = selectors.roi_distribution if counted else services.meta_distribution
    return (ask.frames_count(user=user, version=version, filters=rules),
            ask.label_stats(user=user, version=version, filters=rules),
            ask.meta_distribution(user=user, version=version, key="speed", filters=rules),
            roi_distribution(user=user, version=version, key="rois.confidence", filters=rules))


def draft_of_kind(kind, user, child):
    """A draft child with edits (its answers derived from the parent's), or a root draft (its answers counted)."""
    if kind == "child":
        services.frames_update(user=user, version=child, frames=[{**frame(i, speed=99), "id": f"f{i:03d}"} for i in range(0, 40, 3)])
        return fresh(child)
    root = services.dataset_create(user=user, name="counted").versions.get()
    services.frames_add(user=user, version=root, frames=[frame(i) for i in range(90)])
    return fresh(root)


@pytest.mark.parametrize("kind", ["child", "root"])
def test_the_answers_a_draft_gave_are_its_published_versions_at_once(family, kind, django_capture_on_commit_callbacks):
    user, _parent, child = family
    draft = draft_of_kind(kind, user, child)
    asked = {name: answers(user, draft, filters) for name, filters in FILTERS.items()}
    with django_capture_on_commit_callbacks(execute=True):
        published = fresh(services.version_publish(user=user, version=draft))
    with CaptureQueriesContext(connection) as queries:
        again = {name: answers(user, published, filters) for name, filters in FILTERS.items()}
    assert again == asked
    assert [q["sql"] for q in queries if any(table in q["sql"] for table in FRAME_TABLES)] == []
    for name, filters in FILTERS.items():  # and they are what counting the published version gives
        assert selectors.frames_count(user=user, version=published, filters=parse_filters(filters)) == asked[name][0]
    with CaptureQueriesContext(connection) as queries:  # a question nobody asked of the draft is counted
        services.frames_count(user=user, version=published, filters=parse_filters([{"frame_query": "meta.weather:rain"}]))
    assert any("frames_frame" in q["sql"] for q in queries)


def test_an_answer_from_before_the_drafts_last_write_is_not_carried(family, django_capture_on_commit_callbacks):
    user, _parent, child = family
    fog = parse_filters(FILTERS["fog"])
    before = services.frames_count(user=user, version=child, filters=fog)
    services.frames_add(user=user, version=child, frames=[frame(503), frame(506)])  # two more foggy frames
    with django_capture_on_commit_callbacks(execute=True):
        published = fresh(services.version_publish(user=user, version=fresh(child)))
    assert services.frames_count(user=user, version=published, filters=fog) == before + 2


def test_the_filters_asked_of_a_dataset_are_counted_ahead_for_each_version_it_publishes(family):
    # The filtered questions asked lately of a dataset's versions are counted by the job that warms a newly published
    # version's panels: the filters a team uses answer at once on each version it publishes (and on that version's
    # drafts, through their derived answers), though nobody asked them of the draft it was.
    user, parent, child = family
    asked = {name: answers(user, parent, filters) for name, filters in FILTERS.items()}
    services.meta_distribution(user=user, version=parent, key="weather")  # unfiltered: warmed anyway, not noted
    services.frames_update(user=user, version=child, frames=[{**frame(i, speed=99), "id": f"f{i:03d}"} for i in range(0, 40, 3)])
    published = fresh(services.version_publish(user=user, version=fresh(child)))
    unanswerable = {"question": "meta", "filters": FILTERS["fog"], "key": "speed", "bins": 0, "top": 20}  # bins: 1 to 200
    stat_services._remember_for_dataset(published, unanswerable)  # skipped by the job, which warms the rest
    warmed = services.published_distributions_warm(user=user, version_id=published.pk)  # what the `stats_warm` job runs
    assert warmed["questions"] == 4 * len(FILTERS) + 1
    with CaptureQueriesContext(connection) as queries:
        again = {name: answers(user, published, filters) for name, filters in FILTERS.items()}
    assert [q["sql"] for q in queries if any(table in q["sql"] for table in FRAME_TABLES)] == []
    assert again == {name: answers(user, published, filters, counted=True) for name, filters in FILTERS.items()}
    assert any(again[name] != asked[name] for name in FILTERS)  # the edits show: counted for this version

