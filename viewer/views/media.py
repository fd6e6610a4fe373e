"""Media for the users who may see them: the previews the workers made, originals streamed from their
storage, large renditions of video frames and TIFF pages, and the deep zoom pyramids of large images (their
status, which asks a worker for one, and their tiles).

Every link is signed for one dataset by the server that put it in a page (frames.links): a changed link is
refused (403), and a user who is not a member of that dataset gets 404 whoever gave them the link, so the
proxy can neither read arbitrary files under the media roots nor show one dataset's media to another's users.
"""
import mimetypes
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import links, selectors, services
from frames.exceptions import NotFound
from frames.models import MediaPreview
from frames.selectors.previews import view_request
from frames.selectors.pyramids import pyramid_tile_name
from frames.storage import StorageError, StorageNotFoundError, storage_for_uri
from viewer.ranges import Unsatisfiable, byte_range

# How long a request for a large rendition waits for the worker before answering 503 (the viewer then keeps
# the small preview and asks again later). Renditions take 40-310 ms for 1080p video.
RENDITION_WAIT_SECONDS = 8
TILE_NUMBER = re.compile(r"[0-9]{1,9}")
MAX_LEVEL = 40  # level 40 is 2**40 pixels across: no image has more
SIGNED_URL_SECONDS = 900  # how long a signed URL the proxy redirects to stays valid


def _dataset(request, dataset_id: str):
    try:
        return selectors.dataset_get(user=request.user, dataset_id=dataset_id)
    except NotFound:
        raise Http404("no such media") from None


@require_GET
def preview_file(request, path):
    """A worker-made preview (`previews/ab/<key>.jpg?d=<dataset>&sig=...`)."""
    if not path.startswith("previews/") or ".." in path.split("/"):
        raise Http404("no such preview")
    if not links.preview_link_valid(request.GET.get("d", ""), path, request.GET.get("sig", "")):
        return HttpResponseForbidden("sig: this link was not issued by the server")
    _dataset(request, request.GET["d"])
    try:
        handle = default_storage.open(path, "rb")
    except FileNotFoundError:
        raise Http404("no such preview") from None
    response = FileResponse(handle, content_type=mimetypes.guess_type(path)[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=86400, immutable"  # a preview's name is its content key
    return response


@require_GET
def source_media(request):
    """The original of a source, streamed from its storage."""
    dataset_id, uri = request.GET.get("d", ""), request.GET.get("uri", "")
    if not uri:
        return HttpResponse("uri: required", status=400, content_type="text/plain")
    if not links.source_link_valid(dataset_id, uri, request.GET.get("sig", "")):
        return HttpResponseForbidden("sig: this link was not issued by the server")
    _dataset(request, dataset_id)
    try:
        storage = storage_for_uri(uri, credentials_provider=selectors.credentials_provider(user=request.user))
        signed = storage.signed_url(uri, SIGNED_URL_SECONDS)  # a row with delivery "signed": the browser fetches it
        if signed:
            return HttpResponseRedirect(signed, headers={"Cache-Control": "private, no-store"})
        if request.headers.get("Range"):
            return _ranged(request, storage, uri)
        stream = storage.open(uri, seekable=False)
    except StorageNotFoundError:
        raise Http404("the source file does not exist") from None
    except StorageError as exc:
        return HttpResponse(f"uri: {exc.reason}", status=502 if exc.transient else 400, content_type="text/plain")
    return _original_response(StreamingHttpResponse(_chunks(stream), content_type=_content_type(uri)))


def _content_type(uri: str) -> str:
    return mimetypes.guess_type(uri.split("?")[0])[0] or "application/octet-stream"


def _original_response(response):
    response["Cache-Control"] = "private, max-age=3600"
    response["Accept-Ranges"] = "bytes"  # a video player seeks by asking for ranges
    return response


def _ranged(request, storage, uri: str):
    """The part of the original a `Range` header asks for (206), the whole file when the header is not one we
    serve, 416 when it lies outside the file."""
    size = storage.stat(uri).size
    try:
        wanted = byte_range(request.headers["Range"], size) if size is not None else None
    except Unsatisfiable:
        return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
    stream = storage.open(uri, seekable=wanted is not None)
    if wanted is None:
        return _original_response(StreamingHttpResponse(_chunks(stream), content_type=_content_type(uri)))
    start, end = wanted
    stream.seek(start)
    response = StreamingHttpResponse(_chunks(stream, limit=end - start + 1), status=206, content_type=_content_type(uri))
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return _original_response(response)


def _chunks(stream, size=256 * 1024, limit=None):
    """The stream's bytes in chunks, at most `limit` of them when given, closing it at the end."""
    left = limit
    with stream:
        while left is None or left > 0:
            chunk = stream.read(size if left is None else min(size, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


@require_GET
def source_view(request):
    """The large rendition (HYPERDATA_VIEW_SIZE) of a source a browser cannot show: asked of a worker (ahead of
    the thumbnail backlog) on first view, waited for, then kept like any preview."""
    link = links.view_link_from(request.GET)
    if link is None:
        return HttpResponseForbidden("sig: this link was not issued by the server")
    dataset = _dataset(request, link.dataset_id)
    wanted = view_request(link)
    services.rendition_request(user=request.user, dataset=dataset, request=wanted)
    row = selectors.rendition_wait(user=request.user, dataset=dataset, key=wanted.key, timeout=RENDITION_WAIT_SECONDS)
    if row.status == MediaPreview.PENDING:
        return HttpResponse("the image is being made; try again shortly", status=503, content_type="text/plain",
                            headers={"Retry-After": "2"})
    if row.status != MediaPreview.DONE:
        return HttpResponse(f"no image: {row.error or row.status}", status=422, content_type="text/plain")
    response = FileResponse(default_storage.open(row.file, "rb"), content_type=row.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response



@require_GET
def pyramid_status(request):
    """The deep zoom pyramid of a frame's source, as the frame contract's `pyramid` entry (JSON; null for a
    source shown without one): a worker is asked to build it when nobody has. The viewer polls this while the
    state is "none" or "pending"."""
    link = links.pyramid_link_from(request.GET)
    if link is None:
        return HttpResponseForbidden("sig: this link was not issued by the server")
    _dataset(request, link.dataset_id)
    try:
        version = selectors.version_get(user=request.user, version_id=link.version_id)
        if version.dataset_id != link.dataset_id:
            raise NotFound("the version is not in this dataset", field="v")
        entry = services.pyramid_request(user=request.user, version=version, frame_id=link.frame_id, source_id=link.source_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return JsonResponse(entry, safe=False, headers={"Cache-Control": "no-store"})


@require_GET
def pyramid_tile(request, pyramid, level, x, y, format):
    """One tile of a pyramid (`<level>/<x>_<y>.jpeg`), from default storage. A tile never changes (a new build
    gets a new pyramid id), so browsers keep it."""
    if not links.pyramid_tile_link_valid(request.GET.get("d", ""), pyramid, request.GET.get("sig", "")):
        return HttpResponseForbidden("sig: this link was not issued by the server")
    _dataset(request, request.GET.get("d", ""))
    numbers = {}
    for name, text in (("level", level), ("x", x), ("y", y)):
        if not TILE_NUMBER.fullmatch(text) or (name == "level" and int(text) > MAX_LEVEL):
            limit = f"0 to {MAX_LEVEL}" if name == "level" else "0 or more"
            return HttpResponse(f"{name}: expected a whole number from {limit}, got {text!r}", status=400, content_type="text/plain")
        numbers[name] = int(text)
    if format not in ("jpeg", "png"):
        raise Http404("no such tile")
    try:
        handle = default_storage.open(pyramid_tile_name(pyramid, numbers["level"], numbers["x"], numbers["y"], format), "rb")
    except FileNotFoundError:
        raise Http404("no such tile") from None
    response = FileResponse(handle, content_type=f"image/{format}")
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
