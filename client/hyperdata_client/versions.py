"""A version's frames: add, update, delete, iterate, and its label statistics."""
from __future__ import annotations

import os
import time
from typing import Iterable, Iterator, NamedTuple

import requests

from .api import TIMEOUT, api
from .errors import ApiError, HyperDataError, raise_for_answer
from .annotations import new_id
from .frames import FrameGroup, SingleFrame

DEFAULT_BATCH = 500
PAGE_SIZE = 500  # frames per request while iterating (the server allows up to 1000)
STATS_POLL_SECONDS = 1.0


class FailedFrame(NamedTuple):
    """A frame add_frames could not register, and why (the server's field errors, or the transport error)."""

    frame: "SingleFrame | FrameGroup"
    reason: str


def _singles(frame) -> list[SingleFrame]:
    return [frame] if isinstance(frame, SingleFrame) else list(frame.values())


def _is_local(source: str | None) -> bool:
    """A source naming a file on this machine (the server cannot read it: it is uploaded first)."""
    return bool(source) and "://" not in source and os.path.isfile(source)


def _reason(failure: dict) -> str:
    return "; ".join(f"{e.get('field')}: {e.get('message')}" for e in failure.get("errors") or []) or "refused"


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), max(1, size)):
        yield items[start:start + size]


class VersionFrames:
    id: str

    def add_frames(self, frames: Iterable, auto_upload: bool = True, upload_retries: int = 5,
                   batch_size: int = DEFAULT_BATCH, **_ignored) -> list[FailedFrame]:
        """Add frames (a frame whose id the version has is replaced), `batch_size` per request. A request that
        is lost or finds the server busy is sent again up to `upload_retries` times; a batch that still fails, or
        a frame the server refuses, is listed in the answer with the reason and the next frames go on. Frames
        the server named get their id set. A `source` that is a file on this machine is first uploaded to the
        server (with the same retries) and replaced by the server's URI, and so are `mask_source` / `masks_source`
        files; a frame whose file still fails is listed."""
        failed: list[FailedFrame] = []
        for batch in _batches(list(frames), batch_size):
            failed += self._add_batch(batch, upload_retries, auto_upload)
        return failed

    def _add_batch(self, batch: list, retries: int, auto_upload: bool) -> list[FailedFrame]:
        failed = []
        for frame in batch if auto_upload else []:
            problem = self._upload_local_sources(frame, retries)
            if problem:
                failed.append(FailedFrame(frame, problem))
        not_uploaded = {id(f.frame) for f in failed}
        sendable = [f for f in batch if id(f) not in not_uploaded]
        if not sendable:
            return failed
        for frame in sendable:
            # Named here, not by the server: a retry after a lost answer then replaces what the first attempt
            # wrote instead of adding the frames twice.
            frame.id = frame.id or new_id()
        try:
            answer = api().post(f"versions/{self.id}/frames/", [f.to_dict() for f in sendable], params={"partial": "true"}, retries=retries)
        except (ApiError, requests.RequestException) as exc:
            return failed + [FailedFrame(f, str(exc)) for f in sendable]
        refused = {failure["index"]: failure for failure in answer.get("failed") or []}
        failed += [FailedFrame(sendable[i], _reason(refused[i])) for i in sorted(refused)]
        return failed

    def _upload_local_sources(self, frame, retries: int) -> str:
        """Upload the frame's local source and mask files and point the sources and masks at the server's copies;
        the reason the first one failed, or "" (the server keeps content-addressed files, so a retried upload is
        not a copy). A frame is changed only once all its files are uploaded."""
        uploaded: dict[str, str] = {}
        for single in _singles(frame):
            for what, path in [("source", single.source)] + [("mask", mask.get("uri")) for mask in single.masks]:
                if not _is_local(path) or path in uploaded:
                    continue
                try:
                    uploaded[path] = api().upload(f"versions/{self.id}/uploads/", path, retries=retries)["uri"]
                except (ApiError, requests.RequestException, OSError) as exc:
                    return f"{what} {path!r} could not be uploaded: {exc}"
        for single in _singles(frame):
            single.source = uploaded.get(single.source, single.source)
            for mask in single.masks:
                mask["uri"] = uploaded.get(mask.get("uri"), mask.get("uri"))
        return ""

    def update_frames(self, frames: Iterable, batch_size: int = DEFAULT_BATCH, **_ignored) -> None:
        """Write changed frames (each needs its id). A frame read from the server carries the `saved` it was read
        with, so if someone saved it since, the batch is refused (ApiError 412) instead of overwriting theirs.
        `meta` is merged key by key (as the REST API's PATCH does): a key removed locally stays on the server."""
        for batch in _batches(list(frames), batch_size):
            bodies = [f.to_dict() for f in batch]
            if any(not body.get("id") for body in bodies):
                raise HyperDataError("update_frames needs frames with an id (use add_frames for new frames)")
            api().patch(f"versions/{self.id}/frames/", bodies)
            for frame in batch:  # the server moved `saved` on; the old value would now make the next update stale
                frame.saved = None

    def delete_frames(self, frames: Iterable, batch_size: int = DEFAULT_BATCH, **_ignored) -> list[str]:
        """Delete frames (objects or ids); returns the ids the version did not have."""
        ids = [f if isinstance(f, str) else f.id for f in frames]
        missing: list[str] = []
        for batch in _batches(ids, batch_size):
            missing += api().post(f"versions/{self.id}/delete-frames/", {"ids": batch})["missing"]
        return missing

    def get_iterator(self, page_size: int = PAGE_SIZE, **query) -> Iterator:
        """Every frame of the version, page by page (keyset cursor: as fast at the end as at the start).
        Keyword arguments are the frames API's query (`label`, `frame_query`, `roi_query`, `sort`, `order`...)."""
        params = {**query, "limit": page_size}
        while True:
            page = api().get(f"versions/{self.id}/frames/", params=params)
            yield from (SingleFrame.from_dict(frame) for frame in page["results"])
            if not page.get("cursor"):
                return
            params = {**query, "limit": page_size, "cursor": page["cursor"]}

    def get_stats(self, timeout: float = 600, **query) -> dict:
        """Label statistics (frames, annotated frames, per label ROIs and frames); a large version is counted by
        a job on the server, which this waits for."""
        deadline = time.monotonic() + timeout
        while True:
            with api().http.get(api().url(f"versions/{self.id}/stats/"), params=query, timeout=TIMEOUT) as answer:
                raise_for_answer(answer)
                if answer.status_code != 202:  # 202: a job is counting them
                    return answer.json()
            if time.monotonic() > deadline:
                raise HyperDataError(f"the statistics of version {self.id} were not counted within {timeout} s")
            time.sleep(STATS_POLL_SECONDS)
