from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import annotate, context, dataviews, datasets, export, frames, imports, jobs, media, members, navigation, settings, split, system, versions

# Pages live in the "viewer" namespace (viewer:home, viewer:dataset, viewer:version, ...); login, logout and
# healthz keep their plain names (settings.LOGIN_URL = "login").
pages = [
    path("", datasets.home, name="home"),
    path("datasets/new/", datasets.dataset_create, name="dataset-create"),
    path("datasets/<str:dataset_id>/", datasets.dataset_page, name="dataset"),
    path("datasets/<str:dataset_id>/edit/", datasets.dataset_edit, name="dataset-edit"),
    path("datasets/<str:dataset_id>/delete/", datasets.dataset_delete, name="dataset-delete"),
    path("datasets/<str:dataset_id>/members/", members.dataset_members, name="dataset-members"),
    path("datasets/<str:dataset_id>/members/<int:member_id>/", members.member_role, name="member-role"),
    path("datasets/<str:dataset_id>/members/<int:member_id>/remove/", members.member_remove, name="member-remove"),
    path("versions/<str:version_id>/", frames.version_frames, name="version"),
    path("versions/<str:version_id>/frames/count/", frames.version_count, name="version-count"),
    path("versions/<str:version_id>/frames/labels/", frames.version_labels, name="version-labels"),
    path("versions/<str:version_id>/frames/position/", frames.version_position, name="version-position"),
    path("versions/<str:version_id>/frames/export/", export.version_export, name="version-export"),
    path("versions/<str:version_id>/split/", split.version_split, name="version-split"),
    path("versions/<str:version_id>/context/", context.context_view, name="context"),
    path("versions/<str:version_id>/context/frames/", context.context_frames_json, name="context-frames"),
    path("versions/<str:version_id>/frame/<path:frame_id>", context.frame_page, name="frame"),
    path("versions/<str:version_id>/frames/<path:frame_id>/neighbour", navigation.frame_neighbour, name="frame-neighbour"),
    path("versions/<str:version_id>/stats/", versions.version_stats, name="version-stats"),
    path("versions/<str:version_id>/stats/labels/", versions.version_stats_labels, name="version-stats-labels"),
    path("versions/<str:version_id>/stats/meta/", versions.version_stats_meta, name="version-stats-meta"),
    path("versions/<str:version_id>/metadata/", versions.version_metadata, name="version-metadata"),
    path("versions/<str:version_id>/info/", versions.version_info, name="version-info"),
    path("versions/<str:version_id>/edit/", datasets.version_edit, name="version-edit"),
    path("versions/<str:version_id>/child/", datasets.version_child, name="version-child"),
    path("versions/<str:version_id>/publish/", datasets.version_publish, name="version-publish"),
    path("versions/<str:version_id>/snapshot/", datasets.version_snapshot, name="version-snapshot"),
    path("versions/<str:version_id>/delete/", datasets.version_delete, name="version-delete"),
    path("versions/<str:version_id>/annotate/", annotate.annotate_in_draft, name="version-annotate"),
    path("versions/<str:version_id>/import/", imports.version_import, name="version-import"),
    path("settings/cloud-access/", settings.cloud_access, name="cloud-access"),
    path("settings/cloud-access/new/", settings.credential_create, name="credential-create"),
    path("settings/cloud-access/<str:credential_id>/edit/", settings.credential_edit, name="credential-edit"),
    path("settings/cloud-access/<str:credential_id>/delete/", settings.credential_delete, name="credential-delete"),
    path("settings/cloud-access/<str:credential_id>/test/", settings.credential_test, name="credential-test"),
    path("dataviews/", dataviews.dataviews_page, name="dataviews"),
    path("jobs/", jobs.jobs_page, name="jobs"),
    path("jobs/<str:job_id>/", jobs.job_page, name="job"),
    path("media/source/", media.source_media, name="source-media"),
    path("media/view/", media.source_view, name="source-view"),
    path("media/pyramid/", media.pyramid_status, name="pyramid-status"),
    path("media/pyramids/<str:pyramid>/<str:level>/<str:x>_<str:y>.<str:format>", media.pyramid_tile, name="pyramid-tile"),
    path("media/<path:path>", media.preview_file, name="preview-file"),
]

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((pages, "viewer"))),
]
