from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpResponseBadRequest, JsonResponse

from frames.storage.netguard import RESOLUTION_MARK, hide_resolution


class LoginRequiredExceptApiMiddleware(LoginRequiredMiddleware):
    """Pages redirect anonymous users to the login page; the API answers 401/403 itself (DRF auth)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class HideResolvedAddressesMiddleware:
    """A source that could not be fetched because its host name resolves to an address the operator did not
    allow is reported to staff with the addresses (frames.storage.netguard), to everyone else without them: the
    answer would otherwise map internal host names to internal addresses. Applied here, to every page and API
    answer, because the refusal is recorded on previews, jobs and pyramids and shown wherever those are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or user.is_staff:
            return response
        charset = response.charset or "utf-8"
        if not response.streaming:
            if MARK in response.content:
                response.content = hide_resolution(response.content.decode(charset)).encode(charset)
        elif response.get("Content-Type", "").startswith("text/html"):
            # Streamed pages (viewer/streaming.py) send whole rendered blocks: a sentence never spans two chunks.
            response.streaming_content = _hidden(response.streaming_content, charset)
        return response


MARK = RESOLUTION_MARK.encode()


def _hidden(chunks, charset):
    for chunk in chunks:
        yield hide_resolution(chunk.decode(charset)).encode(charset) if MARK in chunk else chunk


class RefuseNulInAddressMiddleware:
    """A NUL character in the path or a query parameter is refused with 400 naming it: PostgreSQL cannot hold it
    in text, so a filter or an id carrying one would otherwise reach the database and fail there (a 500). The
    bodies are checked by the API's parsers (frames/api/parsers.py) and the frame validation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        message = "contains a NUL character (\\u0000)"
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": f"{field}: {message}", "errors": [{"field": field, "message": message}]}, status=400)
        return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")


def _nul_field(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\u0000")
    return None
