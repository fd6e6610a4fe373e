"""Limits on password guessing through the API: a request rate per client address for the token endpoint,
and the client address that django-axes (settings.AXES_CLIENT_IP_CALLABLE) counts failures against, worked out
the same way so that the two never disagree about who is asking."""
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request) -> str:
    """REMOTE_ADDR, or the X-Forwarded-For entry the HYPERDATA_NUM_PROXIES trusted proxies vouch for."""
    return BaseThrottle().get_ident(request)


class LoginRateThrottle(SimpleRateThrottle):
    """settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"] requests per client address, signed in or not."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def login_throttle_keys(addresses) -> list[str]:
    """The cache keys LoginRateThrottle keeps for these addresses (tests reset them between tests)."""
    return [LoginRateThrottle.cache_format % {"scope": LoginRateThrottle.scope, "ident": a} for a in addresses]
