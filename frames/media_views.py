"""Media for logged-in users: the previews the workers made, and originals streamed from their storage.

Originals are only served for URIs the server itself put in a page (signed), so the proxy cannot be used
to read arbitrary files under the media roots or to reach other hosts.
"""
import mimetypes
from urllib.parse import urlencode

from django.core import signing
from django.core.files.storage import default_storage
from django.conf import settings
from django.http import (
    FileResponse, Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, StreamingHttpResponse,
)
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import previews
from .models import MediaPreview
from .storage import StorageError, StorageNotFoundError, storage_for_uri

_SIGNER = signing.Signer(salt="hyperdata.source-media")
_VIEW_SIGNER = signing.Signer(salt="hyperdata.source-view")


def source_media_url(uri: str) -> str:
    """A URL the browser can load the original of `uri` from (through the proxy below)."""
    return reverse("viewer:source-media") + "?" + urlencode({"uri": uri, "sig": _SIGNER.signature(uri)})


def source_view_url(source: dict) -> str | None:
    """A URL of the large rendition (HYPERDATA_VIEW_SIZE) of a source a browser cannot show (a video frame at
    the source's timestamp, a TIFF page); None for a source with a preview of the user's own."""
    wanted = previews.source_request(source, max_size=settings.HYPERDATA_VIEW_SIZE)
    if wanted is None:
        return None
    fields = {"uri": wanted.uri, "media": wanted.media, "t": str(wanted.timestamp), "page": str(wanted.page)}
    return reverse("viewer:source-view") + "?" + urlencode({**fields, "sig": _VIEW_SIGNER.signature(_signed(fields))})


def _signed(fields: dict) -> str:
    return "|".join(fields[k] for k in ("uri", "media", "t", "page"))


@require_GET
def source_view(request):
    """The large rendition of a source, rendered on first request (frames.previews.view_rendition)."""
    fields = {k: request.GET.get(k, "") for k in ("uri", "media", "t", "page")}
    if not signing.constant_time_compare(request.GET.get("sig", ""), _VIEW_SIGNER.signature(_signed(fields))):
        return HttpResponseForbidden("sig: this link was not issued by the server")
    wanted = previews.PreviewRequest(MediaPreview.SOURCE, fields["uri"], fields["media"], int(fields["t"]), int(fields["page"]),
                                     settings.HYPERDATA_VIEW_SIZE)
    try:
        row = previews.view_rendition(wanted)
    except StorageError as exc:  # only errors that may pass get here; the rest are recorded on the row
        return HttpResponse(f"uri: {exc.reason}", status=503, content_type="text/plain")
    if row.status != MediaPreview.DONE:
        return HttpResponse(f"no image: {row.error or row.status}", status=422, content_type="text/plain")
    response = FileResponse(default_storage.open(row.file, "rb"), content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def preview_file(request, path):
    if not path.startswith("previews/") or ".." in path.split("/"):
        raise Http404("no such preview")
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError:
        raise Http404("no such preview") from None
    response = FileResponse(handle, content_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=86400, immutable"  # a preview's name is its content key
    return response


@require_GET
def source_media(request):
    uri, signature = request.GET.get("uri", ""), request.GET.get("sig", "")
    if not uri:
        return HttpResponseBadRequest("uri: required")
    if not signing.constant_time_compare(signature, _SIGNER.signature(uri)):
        return HttpResponseForbidden("sig: this link was not issued by the server")
    try:
        storage = storage_for_uri(uri)
        stream = storage.open(uri, seekable=False)
    except StorageNotFoundError:
        raise Http404("the source file does not exist") from None
    except StorageError as exc:
        return HttpResponseBadRequest(f"uri: {exc.reason}", status=502 if exc.transient else 400)
    response = StreamingHttpResponse(_chunks(stream), content_type=mimetypes.guess_type(uri.split("?")[0])[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _chunks(stream, size=256 * 1024):
    with stream:
        while chunk := stream.read(size):
            yield chunk
