"""Browser pages. The full UI (version tree, frame browser, viewer, annotator) comes later; these read through
frames.selectors and the models only, never write."""
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from frames import selectors
from frames.models import DatasetVersion


@require_GET
def home(request):
    """The dataset list: name, versions, frames in the newest version, last change."""
    search = request.GET.get("q", "").strip()
    newest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-seq")
    datasets = selectors.datasets_list(search=search).annotate(
        version_count=Count("versions", distinct=True),
        newest_version=Subquery(newest.values("name")[:1]),
        newest_frames=Subquery(newest.values("frame_count")[:1]),
        last_change=Max("versions__updated"),
    )
    return render(request, "viewer/home.html", {"datasets": datasets, "search": search})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and the run command: 200 when the database and the Celery broker answer."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"error: {exc.__class__.__name__}"
    return "ok"


_broker_clients = {}


def _check_broker():
    import redis

    url = settings.CELERY_BROKER_URL
    try:
        client = _broker_clients.get(url)
        if client is None:
            client = _broker_clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok"
