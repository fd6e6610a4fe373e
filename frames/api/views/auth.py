"""POST /api/auth/token/: DRF's token login, limited against password guessing.

Two limits apply: LoginRateThrottle (requests per client address) and django-axes' lockout (failed sign-ins
per user name and per address, shared with /login/). Axes refuses a locked-out sign-in inside authenticate(),
which DRF's serializer would report as wrong credentials; it is answered with 429 and the reason instead.
"""
from django.conf import settings
from rest_framework import exceptions
from rest_framework.authtoken.views import ObtainAuthToken

from ..throttles import LoginRateThrottle

LOCKED_OUT = "too many failed sign-ins for this user name or from this address; try again later."


class TokenView(ObtainAuthToken):
    throttle_classes = [LoginRateThrottle]

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            if getattr(request, "axes_locked_out", False):  # set by axes' failure handler on this request
                raise exceptions.Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=LOCKED_OUT) from None
            raise
