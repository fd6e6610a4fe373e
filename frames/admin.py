"""The Django admin (/admin/): staff look up projects, datasets, versions, members, jobs and cloud access here.

Read-only: every write goes through frames/services/ (revisions, lineage, frame counts, statistics, access rules
and encryption are kept there), so the admin adds, changes and deletes nothing; its detail pages only show. It
never shows a credential's secrets (encrypted or not), and never loads more than a page of rows: 50 a page, no
full count of a table that may hold millions, no filter that lists a big table's distinct values, no edit widget
that would load a related table.
"""
from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from .models import CloudCredential, Dataset, DatasetMember, DatasetVersion, Job, Project
from .services.job_kinds import RUNNERS

admin.site.site_header = "HyperData administration"
admin.site.site_title = "HyperData admin"
admin.site.index_title = "Look up (changes go through the app and the API)"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages only: no add, change or delete (the services own the writes)."""

    list_per_page = 50
    list_max_show_all = 50  # "Show all" never loads more than a page
    show_full_result_count = False  # "N results (Show all)" without counting the whole table
    show_facets = admin.ShowFacets.NEVER  # no "Show counts": a count per filter choice over the whole table
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def app_link(url: str, text: str):
    return format_html('<a href="{}">{}</a>', url, text)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "datasets", "created_by", "created", "id")
    search_fields = ("name", "=id", "description")
    list_select_related = ("created_by",)
    fields = ("id", "name", "description", "created_by", "created")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(dataset_count=Count("datasets"))

    @admin.display(description="datasets", ordering="dataset_count")
    def datasets(self, project):
        url = reverse("admin:frames_dataset_changelist") + f"?project__id__exact={project.pk}"
        return app_link(url, project.dataset_count)


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ("name", "project", "owner", "tag_list", "versions", "updated", "id")
    list_filter = ("project", "created")
    search_fields = ("name", "=id", "description", "created_by__username")
    list_select_related = ("project", "created_by")
    ordering = ("name",)
    fields = ("id", "name", "project", "description", "tags", "metadata", "created_by", "revision", "created", "updated", "open")
    readonly_fields = ("open",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    def view_on_site(self, dataset):
        return reverse("viewer:dataset", args=[dataset.pk])

    @admin.display(description="owner", ordering="created_by__username")
    def owner(self, dataset):
        return dataset.created_by or "—"

    @admin.display(description="tags")
    def tag_list(self, dataset):
        return ", ".join(dataset.tags or []) or "—"

    @admin.display(description="versions", ordering="version_count")
    def versions(self, dataset):
        url = reverse("admin:frames_datasetversion_changelist") + f"?q={dataset.pk}"
        return app_link(url, dataset.version_count)

    @admin.display(description="in the app")
    def open(self, dataset):
        return app_link(self.view_on_site(dataset), "Open the dataset page")


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdmin):
    list_display = ("name", "dataset", "status", "frame_count", "parent_name", "created", "published")
    list_filter = ("status", "published")
    # "=dataset__id": a dataset's versions by its id (the Datasets list links here that way), as an exact match.
    search_fields = ("name", "=id", "=dataset__id", "dataset__name")
    list_select_related = ("dataset", "parent")
    ordering = ("-created",)
    fields = ("id", "dataset", "name", "description", "status", "parent", "seq", "lineage", "frame_count", "metadata",
              "revision", "created", "updated", "published", "open")
    readonly_fields = ("open",)

    def view_on_site(self, version):
        return reverse("viewer:version", args=[version.pk])

    @admin.display(description="parent", ordering="parent__seq")
    def parent_name(self, version):
        return version.parent.name if version.parent else "—"  # a version's str() leads with the dataset's id

    @admin.display(description="in the app")
    def open(self, version):
        return app_link(self.view_on_site(version), "Open the version's frames")


@admin.register(DatasetMember)
class DatasetMemberAdmin(ReadOnlyAdmin):
    list_display = ("dataset", "user", "role", "created")
    list_filter = ("role",)
    search_fields = ("dataset__name", "=dataset__id", "user__username")
    list_select_related = ("dataset", "user")
    ordering = ("dataset__name", "user__username")
    fields = ("dataset", "user", "role", "created")


# Jobs that no runner runs: preview tasks move them forward (frames/services/previews.py).
KINDS_WITHOUT_RUNNER = ("previews",)


class JobKindFilter(admin.SimpleListFilter):
    """The kinds the workers know, from their registry: no SELECT DISTINCT over every job ever run."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind) for kind in sorted({*RUNNERS, *KINDS_WITHOUT_RUNNER})]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("short_id", "kind", "state", "subject", "user", "progress", "created", "finished")
    list_display_links = ("short_id",)
    list_filter = ("state", JobKindFilter, "created")
    search_fields = ("=id", "subject", "=kind", "=key", "user__username", "=version__id", "=dataset__id")
    list_select_related = ("user",)
    ordering = ("-created",)
    fields = ("id", "kind", "state", "subject", "key", "user", "dataset", "version", "progress", "message", "error",
              "params", "result", "attempts", "lease_until", "created", "started", "finished", "updated", "open")
    readonly_fields = ("progress", "open")

    def view_on_site(self, job):
        return reverse("viewer:job", args=[job.pk])

    @admin.display(description="id", ordering="id")
    def short_id(self, job):
        return job.pk[:8]  # the whole id is in the link and searchable

    @admin.display(description="progress")
    def progress(self, job):
        return f"{job.done:,} / {job.total:,}" if job.total is not None else f"{job.done:,}"

    @admin.display(description="in the app")
    def open(self, job):
        return app_link(self.view_on_site(job), "Open the job's page")


@admin.register(CloudCredential)
class CloudCredentialAdmin(ReadOnlyAdmin):
    """Without `secret` and `token` (Fernet tokens of secret keys, service-account JSON, SAS tokens, connection
    strings): only whether one is set. The access key or account name is shortened: enough to recognise it."""

    list_display = ("name", "provider", "shared_or_owner", "host", "bucket", "delivery", "has_secret", "updated")
    list_filter = ("provider", "delivery", "anonymous")
    search_fields = ("name", "host", "bucket", "owner__username")
    list_select_related = ("owner",)
    fields = ("id", "name", "provider", "shared_or_owner", "host", "bucket", "region", "key_hint", "azure_auth",
              "use_tls", "anonymous", "delivery", "has_secret", "has_token", "created", "updated")
    readonly_fields = ("shared_or_owner", "key_hint", "has_secret", "has_token")

    @admin.display(description="owner", ordering="owner__username")
    def shared_or_owner(self, credential):
        return credential.owner or "shared with everyone"

    @admin.display(description="access key or account")
    def key_hint(self, credential):
        key = credential.key or ""
        return f"{key[:4]}…" if len(key) > 4 else (key or "—")

    @admin.display(description="secret set", boolean=True)
    def has_secret(self, credential):
        return bool(credential.secret)

    @admin.display(description="token set", boolean=True)
    def has_token(self, credential):
        return bool(credential.token)
