"""A draft child's answers derived from its published parent's (selectors.stats_delta), and what is kept for them
from one state of the draft to the next: its changes, and per question what the parent's revisions it replaced
contribute, so that a write's answer reads only the revisions that write replaced."""
from __future__ import annotations

from dataclasses import replace

from django.core.cache import cache

from ..models import DatasetVersion
from ..selectors import stats_delta as delta_selectors
from .columns_local import columns_localise
from .stats_keys import DRAFT_CACHE_SECONDS, DRAFT_CHANGES_SECONDS, NOT_DERIVED, cache_key, key_of, remember_asked


def derived_answer(kind: str, user, version: DatasetVersion, filters, args: tuple, derive):
    """A draft child's answer derived from its published parent's, cached under the draft's state like a counted
    one; None when it cannot be (no published parent, too many own revisions, or an answer that has to be
    counted). The parent's own answer is counted once, or by a job (StatsPending). `args`: the question's, as
    services.stats keys it (`filters` first)."""
    if version.is_published or not version.parent_id:
        return None
    key = cache_key(f"{kind}-derived", version, *args)
    result = cache.get(key)
    if result is None:
        changes = _draft_changes(user, version)
        if changes is None:
            return None
        columns_localise(user=user, version=version)  # the parent's, which the delta may read
        derived = derive(delta_selectors.delta_of(user=user, version=version, changes=changes, filters=filters, known=_known(kind, version, args)))
        if derived.removed is not None:
            cache.set(_removed_key(kind, version, args), derived.removed, DRAFT_CHANGES_SECONDS)
        result = derived.answer
        cache.set(key, NOT_DERIVED if result is None else result, DRAFT_CACHE_SECONDS)  # counted instead, until a write
        if result is not None:
            remember_asked(kind, version, args)
    return None if result == NOT_DERIVED else result


def _removed_key(kind: str, version: DatasetVersion, args: tuple) -> str:
    return key_of(f"{kind}-removed", version.pk, [repr(a) for a in args], [])


def _known(kind: str, version: DatasetVersion, args: tuple):
    """What the replaced revisions contribute to this question, as kept (delta_of checks it still applies). For a
    count, the label statistics' under the same filters will do (their frame count is the count): the Frames
    tab's count after the Statistics tab's answer then reads only the draft's own rows."""
    known = cache.get(_removed_key(kind, version, args))
    if known is None and kind == "count":
        labels = cache.get(_removed_key("labels", version, args[:1]))
        known = replace(labels, summary={"total": labels.summary["total"]}) if labels is not None else None
    return known


def _draft_changes(user, version: DatasetVersion):
    """selectors.draft_changes, read once per state of the draft, from the last state's when it is kept."""
    key = cache_key("draft-changes", version)
    changes = cache.get(key)
    if changes is None:
        changes = delta_selectors.draft_changes(user=user, version=version, known=cache.get(last_changes_key(version.pk))) or NOT_DERIVED
        cache.set(key, changes, DRAFT_CACHE_SECONDS)
        if changes != NOT_DERIVED:
            cache.set(last_changes_key(version.pk), changes, DRAFT_CHANGES_SECONDS)
    return None if changes == NOT_DERIVED else changes


def last_changes_key(version_id: str) -> str:
    """The draft's changes in the last state read, whatever it was (selectors.draft_changes' `known`)."""
    return f"stats:draft-changes-last:{version_id}"
