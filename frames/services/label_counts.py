"""A draft's label statistics kept as frames are written: LabelCounts, called by the frame services inside the
write's transaction, under the version's row lock, so reading them counts nothing. A child starts from its
parent's, and publishing keeps them as the version's stored statistics."""
from __future__ import annotations

from ..models import DatasetVersion, FrameRevision
from ..selectors import stats as stat_selectors
from ..selectors import stats_kept as kept_selectors
from ..selectors.stats_kept import PAIRS, PAIRS_MAX_LABELS
from .bulk import label_signature, roi_label_rows


class LabelCounts:
    """A draft's label statistics kept through one write: started before the write (from what the version
    keeps, or its parent's when it has no revisions of its own, or counted once), moved frame by frame, and
    stored in the same UPDATE that moves `frame_count`. The pairs (selectors.stats_kept) move with them while
    they are kept and the labels stay within PAIRS_MAX_LABELS."""

    def __init__(self, stats: dict):
        self.labels = {e["label"]: [e["roi_count"], e["frame_label_count"], e["frame_count"]] for e in stats["labels"]}
        self.annotated = stats["annotated_frame_count"]
        pairs = stats.get(PAIRS)
        self.pairs = {a: {b: list(counts) for b, counts in row.items()} for a, row in pairs.items()} if pairs is not None else None
        self.pending: dict[tuple, int] = {}  # frames by their labels' counts, not yet folded in

    @classmethod
    def before_write(cls, *, user, version: DatasetVersion) -> "LabelCounts":
        """Call with the version locked, before any of the write's rows change."""
        return cls(version.stats if version.stats is not None else starting_stats(user=user, version=version))

    def replace(self, old: FrameRevision | None, new_rois, signature: tuple | None = None) -> None:
        """A frame written: `old` is what the version showed (None, or a tombstone, for a new frame);
        `signature`, the new ROIs' label_signature when it was made ahead."""
        if old is not None:
            self.remove(old)
        self._tally(label_signature(roi_label_rows(new_rois)) if signature is None else signature, +1)

    def remove(self, old: FrameRevision) -> None:
        if not old.deleted:
            self._tally(label_signature(roi_label_rows(old.rois)), -1)

    def _tally(self, signature: tuple, sign: int) -> None:
        # Frames are tallied by their labels' counts (few distinct ones in a write) and folded into the labels
        # and pairs once, in stats(): a frame costs one dictionary update, not one per pair of its labels.
        if signature:
            self.pending[signature] = self.pending.get(signature, 0) + sign

    def _fold(self) -> None:
        for signature, frames in self.pending.items():
            self.annotated += frames
            for label, roi_count, frame_label_count in signature:
                _add_counts(self.labels.setdefault(label, [0, 0, 0]), roi_count, frame_label_count, frames)
            if self.pairs is not None:
                for a, _, _ in signature:
                    row = self.pairs.setdefault(a, {})
                    for b, roi_count, frame_label_count in signature:
                        _add_counts(row.setdefault(b, [0, 0, 0]), roi_count, frame_label_count, frames)
        self.pending = {}
        if self.pairs is not None and len(self.labels) > PAIRS_MAX_LABELS:
            self.pairs = None  # too many labels to keep every pair: single-label filters are counted instead

    def stats(self, *, frame_count: int) -> dict:
        self._fold()
        stats = kept_selectors.label_stats_shape(self.labels, frame_count=frame_count, annotated=self.annotated)
        if self.pairs is not None:
            stats[PAIRS] = {a: {b: c for b, c in row.items() if c[2]} for a, row in self.pairs.items() if row.get(a, (0, 0, 0))[2]}
        return stats


def _add_counts(entry: list[int], roi_count: int, frame_label_count: int, frames: int) -> None:
    """Add `frames` frames (negative: removed), each with these ROIs and frame labels of one label."""
    entry[0] += frames * roi_count
    entry[1] += frames * frame_label_count
    entry[2] += frames


def starting_stats(*, user, version: DatasetVersion) -> dict:
    """A draft's label statistics when it keeps none yet: its parent's stored ones while it has no revisions
    of its own (copy-on-write: it shows exactly its parent's frames), else counted from its frames once."""
    parent_stats = kept_selectors.inherited_stats(version)
    if parent_stats is not None:
        return parent_stats
    if not version.parent_id and not FrameRevision.objects.filter(version_id=version.pk).exists():
        return {"frame_count": 0, "annotated_frame_count": 0, "labels": [], PAIRS: {}}
    return stat_selectors.counted_label_stats(user=user, version=version, pairs=True)
