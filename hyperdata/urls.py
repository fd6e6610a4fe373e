from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("frames.api.urls")),
    # Pages, the login/logout views and /healthz.
    path("", include("viewer.urls")),
]

# A database error raised before any view (a middleware reading the session) is a 503 too.
handler500 = "hyperdata.unavailable.server_error"
