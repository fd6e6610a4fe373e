"""Answers worth keeping: statistics, counts and Group-by-URL tallies, computed by the selectors and kept here.

- A published version never changes: its label statistics are stored on it when it is published (by a job for
  versions of HYPERDATA_STATS_SYNC_FRAMES frames or more), and its other answers are cached for good.
- A draft's answers are cached under a key that follows its state (every write moves `updated` or
  `frame_count`), so a changed draft is counted again.
- A Sample by Property view's answers (sample_by/sample_n/sample_seed) are kept like a filter's, by the whole
  parameter set: the same parameters on an unchanged version pick the same frames.
- A question about a large version that is not answered yet becomes a job (kind `stats`): the request gets
  StatsPending with the job at once, and asks again; the job's result is the answer (and is cached).
- A draft's unfiltered label statistics are kept on it as frames are written (services.label_counts), so reading
  them counts nothing.
- What a draft answered is carried over to the version it becomes when it is published (its frames are the same).
- The filtered questions asked lately of a dataset's versions are counted ahead for each version it publishes
  (by the `stats_warm` job).

Where answers are kept is in stats_keys; a draft child's answers derived from its parent's in stats_derived.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from ..exceptions import ServiceError
from ..filters import filtering, filters_to_json, parse_filters
from ..models import DatasetVersion, Job
from ..selectors import columns as column_selectors
from ..selectors import contexts as context_selectors
from ..selectors import frames as frame_selectors
from ..selectors import overlap as frame_selectors_overlap
from ..selectors import roi_stats as roi_selectors
from ..selectors import stats as stat_selectors
from ..selectors import stats_delta as delta_selectors
from ..selectors import stats_kept as kept_selectors
from ..selectors.access import VIEWER, require
from ..selectors.query import FrameQuery
from ..selectors.sampling import Sample, parse_sample
from .columns_local import columns_localise
from .jobs import job_start
from .stats_derived import derived_answer
from .stats_keys import (
    DRAFT_CACHE_SECONDS, NOT_DERIVED, PUBLISHED_CACHE_SECONDS, asked_key, cache_key, key_of, remember_asked,
)

LOCK_SECONDS = 300


class StatsPending(Exception):
    """The answer is being counted right now (by a worker's job, or by another request); ask again shortly."""

    def __init__(self, what: str, *, job: Job | None = None, since: float | None = None):
        super().__init__(what)
        self.what, self.job = what, job
        started = job.created.timestamp() if job is not None else since
        self.seconds = max(0.0, time.time() - started) if started else 0.0

    @property
    def in_worker(self) -> bool:
        return self.job is not None


def counted_by_worker(version: DatasetVersion) -> bool:
    """Whether questions about this version go to a worker: from HYPERDATA_STATS_SYNC_FRAMES frames on."""
    return version.frame_count >= settings.HYPERDATA_STATS_SYNC_FRAMES


# -- a published version's statistics --------------------------------------------------------------------------


def published_stats_store_or_queue(*, user, version: DatasetVersion) -> None:
    """Called while publishing: a draft whose counts were kept as its frames were written already has them;
    other small versions get them now; large ones from a job (seconds at a million frames), and until it is
    done, readers compute them live."""
    if version.frame_count >= settings.HYPERDATA_STATS_DERIVE_FRAMES:
        job_start(user=user, kind="stats_warm", key=f"stats-warm:{version.pk}", version=version,
                  subject=f"statistics panels of {version.dataset.name} / {version.name}")
    if version.stats is not None:
        return
    if counted_by_worker(version):
        job_start(user=user, kind="stats_publish", key=f"stats-publish:{version.pk}", version=version,
                  subject=f"statistics of {version.dataset.name} / {version.name}")
        return
    version.stats = stat_selectors.counted_label_stats(user=user, version=version, pairs=True)
    DatasetVersion.objects.filter(pk=version.pk).update(stats=version.stats)


def published_stats_store(*, user, version_id: str) -> dict | None:
    """What the `stats_publish` job does: compute and keep a published version's statistics (once)."""
    version = DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    if not version.is_published or version.stats is not None:
        return None
    stats = stat_selectors.counted_label_stats(user=user, version=version, pairs=True)
    DatasetVersion.objects.filter(pk=version_id, stats__isnull=True).update(stats=stats)
    return {"frame_count": stats["frame_count"], "labels": len(stats["labels"])}


WARM_KEYS = 20
DATASET_ASKED_KEPT = 20  # filtered questions a dataset remembers, counted ahead for each version it publishes
DATASET_ASKED_SECONDS = 7 * 24 * 3600


def published_distributions_warm(*, user, version_id: str) -> dict:
    """What the `stats_warm` job does after a publish: count the Statistics tab's unfiltered panels (the
    metadata keys, the ROI confidence and ROI metadata keys) once, and the filtered questions asked lately of the
    dataset's versions (its viewers' usual filters), so that the version's viewers, and its draft children through
    their derived answers, find them kept instead of waiting for a count each."""
    version = DatasetVersion.objects.select_related("dataset").get(pk=version_id)
    keys = meta_keys(user=user, version=version)[:WARM_KEYS] + [roi_selectors.CONFIDENCE_KEY] + roi_meta_keys(user=user, version=version)[:WARM_KEYS]
    for key in keys:
        meta_distribution(user=user, version=version, key=key)
    asked = cache.get(_dataset_asked_key(version.dataset_id)) or []
    for question in asked:
        try:
            question_answer(user=user, version=version, params=question)
        except ServiceError:  # a question this version cannot answer (say, a key it lacks the type of): asked, it says why
            continue
    return {"panels": len(keys), "questions": len(asked)}


# -- cached answers -----------------------------------------------------------------------------------------------


def label_stats(*, user, version: DatasetVersion, filters=(), single_flight: bool = False, sample: Sample | None = None) -> dict:
    """selectors.label_stats, kept: a published version's stored statistics, or read from the pairs the version
    keeps (one label), or a draft's derived from its parent's (see `_derived`), else cached (see `_answer`)."""
    if not filters and not sample and kept_selectors.kept_stats(version) is not None:
        return stat_selectors.label_stats(user=user, version=version)
    if not sample:
        kept = kept_selectors.kept_label_filter_stats(version, filters)
        if kept is not None:
            require(user, version, VIEWER)
            return kept
        derived = derived_answer("labels", user, version, filters, (list(filters),), lambda delta: delta_selectors.label_stats_from_parent(
            user=user, version=version, delta=delta,
            parent_answer=label_stats(user=user, version=delta.parent, filters=filters, single_flight=single_flight)))
        if derived is not None:
            return derived
    return _answer(
        "labels", version, (list(filters),) + _sampled(sample),
        lambda: stat_selectors.label_stats(user=user, version=version, filters=filters, sample=sample),
        user=user, single_flight=single_flight, params={"filters": filters_to_json(filters), **_sample_params(sample)},
        quick=None if sample else lambda: column_selectors.columnar_label_stats(user=user, version=version, filters=filters),
    )


def _sampled(sample: Sample | None) -> tuple:
    """The sample's part of a cache key (none without one, so the keys of unsampled answers stay as they were)."""
    return (sample,) if sample else ()


def _sample_params(sample: Sample | None) -> dict:
    return {"sample": sample.params()} if sample else {}


def meta_distribution(*, user, version: DatasetVersion, key: str, filters=(), bins: int = stat_selectors.DEFAULT_BINS,
                      top: int = stat_selectors.DEFAULT_TOP, single_flight: bool = False, categorical: bool = False,
                      sample: Sample | None = None) -> dict:
    """selectors.meta_distribution, kept (see `_answer`); an ROI key (`rois.confidence`, `rois.meta.<key>`) is
    selectors.roi_distribution's. `categorical`: counts per value even for numbers (typed categorical_int)."""
    if roi_selectors.is_roi_key(key):
        key, bins = roi_selectors.roi_args(key, bins)
        compute = lambda: roi_selectors.roi_distribution(user=user, version=version, key=key, filters=filters, bins=bins,  # noqa: E731
                                                          sample=sample)
    else:
        parts, bins, top = stat_selectors.meta_args(key, bins, top)
        key = ".".join(parts)
        compute = lambda: stat_selectors.meta_distribution(user=user, version=version, key=key, filters=filters, bins=bins, top=top,  # noqa: E731
                                                           categorical=categorical, sample=sample)
    params = {"filters": filters_to_json(filters), "key": key, "bins": bins, "top": top, "categorical": categorical, **_sample_params(sample)}
    args = (key, list(filters), bins, top) + (("categorical",) if categorical else ()) + _sampled(sample)
    if not sample:
        derived = derived_answer("meta", user, version, filters, args, lambda delta: delta_selectors.distribution_from_parent(
            user=user, version=version, delta=delta, key=key, bins=bins, top=top, categorical=categorical,
            parent_answer=meta_distribution(user=user, version=delta.parent, key=key, filters=filters, bins=bins, top=top,
                                            single_flight=single_flight, categorical=categorical)))
        if derived is not None:
            return derived
    quick = None if sample or categorical else _columnar_distribution(user, version, key, filters, bins, top)
    return _answer("meta", version, args, compute, user=user, single_flight=single_flight, params=params, quick=quick)


def _columnar_distribution(user, version: DatasetVersion, key: str, filters, bins: int, top: int):
    """How the columns answer meta_distribution (selectors.columns; None when they cannot)."""
    if not roi_selectors.is_roi_key(key):
        return lambda: column_selectors.columnar_distribution(user=user, version=version, parts=key.split("."), filters=filters, bins=bins, top=top)
    parts = roi_selectors.roi_key_parts(key)
    if not parts:
        return lambda: column_selectors.columnar_confidence(user=user, version=version, filters=filters, bins=bins)
    return lambda: column_selectors.columnar_roi_meta_distribution(user=user, version=version, parts=parts, filters=filters, bins=bins)


def meta_keys(*, user, version: DatasetVersion) -> list[str]:
    return _answer("meta-keys", version, (stat_selectors.KEY_SAMPLE,), lambda: stat_selectors.meta_keys(user=user, version=version), user=user)


def roi_meta_keys(*, user, version: DatasetVersion) -> list[str]:
    return _answer("roi-keys", version, (stat_selectors.KEY_SAMPLE,), lambda: roi_selectors.roi_meta_keys(user=user, version=version), user=user)


def frames_count(*, user, version: DatasetVersion, filters=(), changed: str = "", sample=None) -> int:
    """How many frames the filters (and `changed`, and the sample) match (the Frames tab's count), kept while
    the version is unchanged."""
    if not filtering(filters) and not changed and not sample:
        return frame_selectors.frames_count(user=user, version=version)
    kept = None if changed or sample else kept_selectors.kept_label_count(version, filters)
    if kept is not None:  # one label: the count the version keeps per label, at any size
        require(user, version, VIEWER)
        return kept
    if not changed and not sample:
        derived = derived_answer("count", user, version, filters, (list(filters), changed), lambda delta: delta_selectors.count_from_parent(
            user=user, version=version, delta=delta, parent_count=frames_count(user=user, version=delta.parent, filters=filters)))
        if derived is not None:
            return derived
    compute = lambda: frame_selectors.frames_count(user=user, version=version, filters=filters, changed=changed, sample=sample)  # noqa: E731
    return _answer("count", version, (list(filters), changed) + ((sample,) if sample else ()), compute, user=user,
                   params=None if changed else {"filters": filters_to_json(filters), **_sample_params(sample)},
                   quick=None if changed or sample else lambda: column_selectors.columnar_count(user=user, version=version, filters=filters))


def frames_overlap_count(*, user, version: DatasetVersion, a: FrameQuery, b: FrameQuery) -> int:
    """How many frames two views both show when no one filter says it (a sampled side of Split Preview), kept
    like a count."""
    def view(q: FrameQuery) -> tuple:
        return (list(q.filters), q.changed) + _sampled(q.sample)

    compute = lambda: frame_selectors_overlap.frames_overlap_count(user=user, version=version, a=a, b=b)  # noqa: E731
    return _answer("overlap", version, (view(a), view(b)), compute, user=user)


def contexts_page(*, user, version: DatasetVersion, query: FrameQuery) -> context_selectors.ContextPage:
    """A Group-by-URL page; a published version's pages are tallied once and kept."""
    compute = lambda: context_selectors.contexts_list(user=user, version=version, query=query)  # noqa: E731
    if not version.is_published:
        return compute()
    require(user, version, VIEWER)  # before the cache is read
    key = cache_key("contexts", version, list(query.filters), query.changed, query.cursor, query.limit,
                     *((query.sample,) if query.sample else ()))
    page = cache.get(key)
    if page is None:
        page = compute()
        cache.set(key, page, PUBLISHED_CACHE_SECONDS)
    return page


def published_answers_carry(*, user, version: DatasetVersion, draft_state: list) -> int:
    """Called once a draft's publishing commits: the answers its viewers got in its last state (`draft_state`,
    counted or derived) hold for the published version too, whose frames are the same. They are kept under the
    published version's keys, so the filters people used on the draft answer at once, for good, instead of being
    counted again (seconds at a million frames). Returns how many were carried."""
    require(user, version, VIEWER)
    carried = 0
    for kind, question in cache.get(asked_key(version.pk)) or []:
        for source in (kind, f"{kind}-derived"):
            answer = cache.get(key_of(source, version.pk, question, draft_state))
            if answer is not None and answer != NOT_DERIVED:
                cache.set(key_of(kind, version.pk, question, []), answer, PUBLISHED_CACHE_SECONDS)
                carried += 1
                break
    cache.delete(asked_key(version.pk))
    return carried


def _answer(kind, version, args, compute, *, user, single_flight=False, params=None, quick=None):
    """The answer from the cache, or read from a large published version's columns (`quick`: None when they cannot
    answer), or from the job that counted it, or counted now; then cached.

    With single_flight (a web request that can ask again): a version of HYPERDATA_STATS_SYNC_FRAMES frames or
    more is counted by a job (`params` say what to count) and StatsPending is raised at once; a smaller one
    that another request is counting raises StatsPending instead of counting it a second time.
    """
    require(user, version, VIEWER)  # before the cache is read
    key = cache_key(kind, version, *args)
    result = cache.get(key)
    if result is not None:
        return result
    if not version.is_published:
        remember_asked(kind, version, args)
    if params is not None:
        _remember_for_dataset(version, {"question": kind, **params})
    if quick is not None:
        columns_localise(user=user, version=version)
    result = quick() if quick is not None else None
    if result is not None:
        return _keep(key, result, version)
    if single_flight and params is not None and counted_by_worker(version):
        job_key = f"stats:{key.split(':', 2)[2]}:{kind}"
        finished = Job.objects.filter(key=job_key, state=Job.DONE).order_by("-finished").first()
        if finished is not None and finished.result is not None:
            return _keep(key, finished.result, version)
        job = job_start(user=user, kind="stats", key=job_key, version=version, params={"question": kind, **params},
                        subject=f"{kind} statistics of {version.dataset.name} / {version.name}")
        if job.state != Job.FAILED:
            raise StatsPending(kind, job=job)
    lock = f"{key}:lock"
    if not cache.add(lock, time.time(), LOCK_SECONDS) and single_flight:
        raise StatsPending(kind, since=cache.get(lock))
    try:
        return _keep(key, compute(), version)
    finally:
        cache.delete(lock)


def _keep(key: str, result, version: DatasetVersion):
    cache.set(key, result, PUBLISHED_CACHE_SECONDS if version.is_published else DRAFT_CACHE_SECONDS)
    return result


def stats_job_run(*, user, job: Job):
    """What a `stats` job does: count what its params ask (the same selectors a request would call)."""
    return question_answer(user=user, version=DatasetVersion.objects.select_related("dataset").get(pk=job.version_id), params=job.params)


def question_answer(*, user, version: DatasetVersion, params: dict):
    """The answer to a question given by its JSON parameters (a `stats` job's, or one a dataset remembers)."""
    filters = parse_filters(params["filters"])
    sample = parse_sample(params.get("sample") or {})
    if params["question"] == "labels":
        return label_stats(user=user, version=version, filters=filters, sample=sample)
    if params["question"] == "count":
        return frames_count(user=user, version=version, filters=filters, sample=sample)
    return meta_distribution(user=user, version=version, key=params["key"], filters=filters, bins=params["bins"], top=params["top"],
                             categorical=params.get("categorical", False), sample=sample)


# -- the questions a dataset's viewers ask, counted ahead for each version it publishes ---------------------------


def _dataset_asked_key(dataset_id: str) -> str:
    return f"stats-dataset-asked:{dataset_id}"


def _remember_for_dataset(version: DatasetVersion, question: dict) -> None:
    """Note a filtered question asked of a version of the dataset, as a stats job takes it (the last
    DATASET_ASKED_KEPT), for the versions the dataset publishes next (published_distributions_warm). Two requests
    noting at once may lose one note: that question is then counted when asked, nothing worse."""
    if not filtering(parse_filters(question["filters"])) or "sample" in question:
        return  # unfiltered answers are kept or warmed anyway; a sample's are rarely asked again
    key = _dataset_asked_key(version.dataset_id)
    asked = [known for known in cache.get(key) or [] if known != question]
    cache.set(key, (asked + [question])[-DATASET_ASKED_KEPT:], DATASET_ASKED_SECONDS)
