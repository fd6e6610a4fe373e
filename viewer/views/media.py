"""Media for the users who may see them: the previews the workers made, originals streamed from their
storage, and large renditions of video frames and TIFF pages.

Every link is signed for one dataset by the server that put it in a page (frames.links): a changed link is
refused (403), and a user who is not a member of that dataset gets 404 whoever gave them the link, so the
proxy can neither read arbitrary files under the media roots nor show one dataset's media to another's users.
"""
import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden, StreamingHttpResponse
from django.views.decorators.http import require_GET

from frames import links, selectors, services
from frames.exceptions import NotFound
from frames.models import MediaPreview
from frames.selectors.previews import view_request
from frames.storage import StorageError, StorageNotFoundError, storage_for_uri

# How long a request for a large rendition waits for the worker before answering 503 (the viewer then keeps
# the small preview and asks again later). Renditions take 40-310 ms for 1080p video.
RENDITION_WAIT_SECONDS = 8


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
        stream = storage_for_uri(uri).open(uri, seekable=False)
    except StorageNotFoundError:
        raise Http404("the source file does not exist") from None
    except StorageError as exc:
        return HttpResponse(f"uri: {exc.reason}", status=502 if exc.transient else 400, content_type="text/plain")
    response = StreamingHttpResponse(_chunks(stream), content_type=mimetypes.guess_type(uri.split("?")[0])[0] or "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _chunks(stream, size=256 * 1024):
    with stream:
        while chunk := stream.read(size):
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

