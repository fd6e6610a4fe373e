"""Media for logged-in users: the previews the workers made, and originals streamed from their storage.

Originals are only served for URIs the server itself put in a page (signed), so the proxy cannot be used
to read arbitrary files under the media roots or to reach other hosts.
"""
import mimetypes
from urllib.parse import urlencode

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseBadRequest, HttpResponseForbidden, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from .storage import StorageError, StorageNotFoundError, storage_for_uri

_SIGNER = signing.Signer(salt="hyperdata.source-media")


def source_media_url(uri: str) -> str:
    """A URL the browser can load the original of `uri` from (through the proxy below)."""
    return reverse("viewer:source-media") + "?" + urlencode({"uri": uri, "sig": _SIGNER.signature(uri)})


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
