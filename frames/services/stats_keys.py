"""Where the statistics services keep answers: cache keys that follow a version's state, how long each thing is
kept, and the questions a draft answered (carried to the version it becomes when it is published)."""
from __future__ import annotations

import hashlib
import json

from django.core.cache import cache

from ..models import DatasetVersion

DRAFT_CACHE_SECONDS = 600
# What a draft's changes were and what its replaced frames contribute to each question stay true in any later state
# (they are checked against it, and the parent never changes): kept a day, so an annotator back after a break does
# not wait for them to be read again (100-150 ms at a million frames).
DRAFT_CHANGES_SECONDS = 24 * 3600
PUBLISHED_CACHE_SECONDS = None  # for good: a published version never changes
ASKED_KEPT = 50  # questions a draft remembers for its publishing (services.stats.published_answers_carry)
NOT_DERIVED = "not derived"  # kept in place of an answer that has to be counted (the cache cannot keep None)


def cache_key(kind: str, version: DatasetVersion, *args) -> str:
    return key_of(kind, version.pk, [repr(a) for a in args], state_of(version))


def state_of(version: DatasetVersion) -> list:
    """What a draft's keys follow (every write moves one of them); nothing for a published version."""
    return [] if version.is_published else [version.updated.isoformat(), version.frame_count]


def key_of(kind: str, version_id: str, question: list[str], state: list) -> str:
    digest = hashlib.sha1(json.dumps(question + state).encode()).hexdigest()
    return f"stats:{kind}:{version_id}:{digest}"


def asked_key(version_id: str) -> str:
    return f"stats-asked:{version_id}"


def remember_asked(kind: str, version: DatasetVersion, args: tuple) -> None:
    """Note a question a draft answered (the last ASKED_KEPT), for published_answers_carry. Two requests noting
    at once may lose one note: that answer is then counted again after publishing, nothing worse."""
    question = [kind, [repr(a) for a in args]]
    asked = cache.get(asked_key(version.pk)) or []
    if question not in asked:
        cache.set(asked_key(version.pk), (asked + [question])[-ASKED_KEPT:], DRAFT_CACHE_SECONDS)
