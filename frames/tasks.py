"""Celery tasks: thin shells around the preview service and the statistics, with the retry policy in one place."""
import hashlib

from celery import shared_task
from django.core.cache import cache

from .previews import render_previews
from .selectors import store_preview_count
from .selectors_stats import compute_queued
from .models import DatasetVersion
from .services import previews_regenerate, version_stats_store
from .storage import TransientStorageError

LOCK_SECONDS = 15 * 60
MAX_RETRIES = 6


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def generate_previews(self, uri: str, keys: list[str]) -> None:
    """Render the previews `keys` of one uri. Idempotent: rows already rendered are skipped, and a lock per
    uri keeps two workers from rendering the same video at once (the second one retries shortly)."""
    lock = "preview-lock:" + hashlib.sha256(uri.encode()).hexdigest()
    if not cache.add(lock, self.request.id or "1", LOCK_SECONDS):
        raise self.retry(countdown=5, max_retries=None)
    try:
        render_previews(uri=uri, keys=keys, give_up=self.request.retries >= MAX_RETRIES)
    except TransientStorageError as exc:
        countdown = getattr(exc, "retry_after", None) or min(300, 2 ** (self.request.retries + 1))
        raise self.retry(exc=exc, countdown=countdown)
    finally:
        cache.delete(lock)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def compute_statistics(kind: str, version_id: str, params: dict) -> None:
    """A Statistics-tab panel of a large version (labels or a metadata key, maybe under a filter), counted
    here instead of in a web request; the answer goes to the cache the web processes read."""
    compute_queued(kind=kind, version_id=version_id, params=params)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def count_previews(version_id: str) -> None:
    """Preview progress of a large version (reads every frame), kept for the API to answer at once."""
    store_preview_count(version_id=version_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def regenerate_previews(version_id: str, everything: bool) -> int:
    """Queue a large version's failed and unfinished (or all) previews again; reads every frame's sources."""
    return previews_regenerate(version=DatasetVersion.objects.get(pk=version_id), everything=everything)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def compute_published_stats(version_id: str) -> None:
    """Label statistics of a large version, computed once after it was published."""
    version_stats_store(version_id=version_id)
