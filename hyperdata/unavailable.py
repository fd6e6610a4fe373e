"""While the database does not answer (restarting, failing over, out of connections) every request is answered
503 with Retry-After: JSON naming the reason for the API, a short page for the browser. Nothing else changes:
Django opens a new connection for the next request (CONN_HEALTH_CHECKS tests a kept one first), so the site
is back by itself as soon as the database is.

Two ways in, because a database error can be raised in a view (DatabaseUnavailableMiddleware) or before it,
in a middleware reading the session or the user (handler500: `server_error`)."""
from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.views.defaults import server_error as django_server_error

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
MESSAGE = "the database is not answering at the moment; nothing was changed, try again in a few seconds"
PAGE = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>HyperData is unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #222">
<h1 style="font-size: 1.4rem">HyperData is unavailable for a moment</h1>
<p>The database is not answering; nothing was changed. Reload this page in a few seconds.</p>
</body>
</html>
"""


def database_unavailable(request) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "errors": [{"field": "database", "message": MESSAGE}]}, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(request) if isinstance(exception, DATABASE_ERRORS) else None


def server_error(request, template_name="500.html"):
    """handler500: a database error raised outside a view is a 503 too; anything else is Django's 500."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return database_unavailable(request)
    return django_server_error(request, template_name)
