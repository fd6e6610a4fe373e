from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .views import auth, credentials, dataviews, datasets, exports, frames, imports, jobs, meta_schema, projects, root, uploads, versions

app_name = "api"
FRAME_ID = "<path:frame_id>"  # frame ids may hold slashes (file paths)

urlpatterns = [
    path("", root.ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path("projects/<str:project_id>/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path("datasets/", datasets.DatasetListView.as_view(), name="dataset-list"),
    path("datasets/<str:dataset_id>/", datasets.DatasetDetailView.as_view(), name="dataset-detail"),
    path("datasets/<str:dataset_id>/versions/", datasets.VersionListView.as_view(), name="version-list"),
    path("datasets/<str:dataset_id>/members/", datasets.MemberListView.as_view(), name="member-list"),
    path("datasets/<str:dataset_id>/members/<int:member_id>/", datasets.MemberDetailView.as_view(), name="member-detail"),
    path("versions/<str:version_id>/", versions.VersionDetailView.as_view(), name="version-detail"),
    path("versions/<str:version_id>/publish/", versions.VersionPublishView.as_view(), name="version-publish"),
    path("versions/<str:version_id>/snapshot/", versions.VersionSnapshotView.as_view(), name="version-snapshot"),
    path("versions/<str:version_id>/stats/", versions.VersionStatsView.as_view(), name="version-stats"),
    path("versions/<str:version_id>/previews/", versions.VersionPreviewsView.as_view(), name="version-previews"),
    path("versions/<str:version_id>/previews/regenerate/", versions.VersionPreviewsRegenerateView.as_view(), name="version-previews-regenerate"),
    path("versions/<str:version_id>/imports/", imports.VersionImportView.as_view(), name="version-import"),
    path("versions/<str:version_id>/uploads/", uploads.VersionUploadView.as_view(), name="version-upload"),
    path("versions/<str:version_id>/export/", exports.VersionExportView.as_view(), name="version-export"),
    path("versions/<str:version_id>/meta-schema/", meta_schema.MetaSchemaView.as_view(), name="version-meta-schema"),
    path("versions/<str:version_id>/contexts/", frames.ContextListView.as_view(), name="context-list"),
    path("versions/<str:version_id>/frames/", frames.FrameListView.as_view(), name="frame-list"),
    path("versions/<str:version_id>/delete-frames/", frames.FrameDeleteView.as_view(), name="frame-delete"),
    path(f"versions/<str:version_id>/frames/{FRAME_ID}/", frames.FrameDetailView.as_view(), name="frame-detail"),
    path("dataviews/", dataviews.DataViewListView.as_view(), name="dataview-list"),
    path("dataviews/<str:dataview_id>/", dataviews.DataViewDetailView.as_view(), name="dataview-detail"),
    path("dataviews/<str:dataview_id>/frames/", dataviews.DataViewFramesView.as_view(), name="dataview-frames"),
    path("dataviews/<str:dataview_id>/count/", dataviews.DataViewCountView.as_view(), name="dataview-count"),
    path("jobs/", jobs.JobListView.as_view(), name="job-list"),
    path("jobs/<str:job_id>/", jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/cancel/", jobs.JobCancelView.as_view(), name="job-cancel"),
    path("cloud-credentials/", credentials.CredentialListView.as_view(), name="credential-list"),
    path("cloud-credentials/<str:credential_id>/", credentials.CredentialDetailView.as_view(), name="credential-detail"),
    path("cloud-credentials/<str:credential_id>/test/", credentials.CredentialTestView.as_view(), name="credential-test"),
]
