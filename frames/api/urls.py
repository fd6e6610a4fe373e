from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from . import views

app_name = "api"
FRAME_ID = "<str:frame_id>"

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", obtain_auth_token, name="token"),
    path("datasets/", views.DatasetListView.as_view(), name="dataset-list"),
    path("datasets/<str:dataset_id>/", views.DatasetDetailView.as_view(), name="dataset-detail"),
    path("datasets/<str:dataset_id>/versions/", views.VersionListView.as_view(), name="version-list"),
    path("versions/<str:version_id>/", views.VersionDetailView.as_view(), name="version-detail"),
    path("versions/<str:version_id>/publish/", views.VersionPublishView.as_view(), name="version-publish"),
    path("versions/<str:version_id>/snapshot/", views.VersionSnapshotView.as_view(), name="version-snapshot"),
    path("versions/<str:version_id>/stats/", views.VersionStatsView.as_view(), name="version-stats"),
    path("versions/<str:version_id>/contexts/", views.ContextListView.as_view(), name="context-list"),
    path("versions/<str:version_id>/previews/", views.VersionPreviewsView.as_view(), name="version-previews"),
    path("versions/<str:version_id>/previews/regenerate/", views.VersionPreviewsRegenerateView.as_view(), name="version-previews-regenerate"),
    path("versions/<str:version_id>/frames/", views.FrameListView.as_view(), name="frame-list"),
    path("versions/<str:version_id>/delete-frames/", views.FrameDeleteView.as_view(), name="frame-delete"),
    path(f"versions/<str:version_id>/frames/{FRAME_ID}/", views.FrameDetailView.as_view(), name="frame-detail"),
]
