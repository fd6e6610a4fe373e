"""Which uploaded media files (frames.services.uploads) frames still name: every revision of the dataset counts,
published or draft, current or replaced, as each version's frames must stay readable."""
from __future__ import annotations

from ..exceptions import Forbidden
from ..models import FrameRevision

SCAN_CHUNK = 2000


def upload_uris_in_use(*, user, dataset_id: str, prefixes: tuple[str, ...]) -> set[str]:
    """The source and mask URIs starting with one of `prefixes` that some revision of the dataset names (staff only: it reads
    every dataset's frames)."""
    if not getattr(user, "is_staff", False):
        raise Forbidden("only staff may list the uploads frames use", field="user")
    used: set[str] = set()
    rows = FrameRevision.objects.filter(dataset_id=dataset_id).values_list("sources", flat=True)
    for sources in rows.iterator(chunk_size=SCAN_CHUNK):
        for source in sources or []:
            uris = [source.get("uri")] + [mask.get("uri") for mask in source.get("masks") or [] if isinstance(mask, dict)]
            used.update(uri for uri in uris if isinstance(uri, str) and uri.startswith(prefixes))
    return used
