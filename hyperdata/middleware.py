from django.contrib.auth.middleware import LoginRequiredMiddleware

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
        if response.streaming or user is None or user.is_staff or RESOLUTION_MARK.encode() not in response.content:
            return response
        charset = response.charset or "utf-8"
        response.content = hide_resolution(response.content.decode(charset)).encode(charset)
        return response
