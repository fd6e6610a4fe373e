"""The filters of the list endpoints and pages (django-filter): which query parameters narrow a list of
datasets, versions or jobs, and how. The API documents them from here; the dataset list page uses the same."""
from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from ..models import Dataset, DatasetVersion, Job
from .datasets import search_q, tags_q
from .projects import projects_list

TAG_MODES = [("any", "any"), ("all", "all"), ("not", "not")]
TRUE_FALSE = [("true", "true"), ("false", "false")]


class TagListField(forms.Field):
    """A repeated query parameter (`?tag=a&tag=b`) as a list of non-empty strings."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return [tag.strip() for tag in (value or []) if isinstance(tag, str) and tag.strip()]


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TagListFilter(django_filters.Filter):
    field_class = TagListField


def _visible_projects(request):
    return projects_list(user=getattr(request, "user", None))


class DatasetFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="_search", help_text="Name, id, description or tag")
    project = django_filters.ModelChoiceFilter(queryset=_visible_projects, help_text="Datasets of this project (its id)")
    tag = TagListFilter(method="_tags", help_text="Datasets with this tag (repeat for several; see tag_mode)")
    # A choice, not a free text: an unknown mode is refused (400) instead of being read as "any".
    tag_mode = django_filters.ChoiceFilter(choices=TAG_MODES, method="_no_filter",
                                           help_text="With several tags: any of them (default), all of them, or none of them (not)")
    created_by_me = django_filters.ChoiceFilter(choices=TRUE_FALSE, method="_created_by_me", help_text="Only datasets I created (true)")

    class Meta:
        model = Dataset
        fields = ["search", "project", "tag", "tag_mode", "created_by_me"]

    def _search(self, queryset, name, value):
        return queryset.filter(search_q(value.strip())) if value.strip() else queryset

    def _tags(self, queryset, name, value):
        return queryset.filter(tags_q(value, self.form.cleaned_data.get("tag_mode") or "any")) if value else queryset

    def _no_filter(self, queryset, name, value):
        return queryset  # read by _tags

    def _created_by_me(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return queryset.filter(created_by_id=getattr(user, "pk", None)) if value == "true" else queryset


class VersionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DatasetVersion.STATUS_CHOICES)
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Versions whose name contains this")

    class Meta:
        model = DatasetVersion
        fields = ["status", "name"]


class JobFilterSet(django_filters.FilterSet):
    # A choice, not a BooleanFilter: that one takes any other value (`?active=maybe`) as no filter at all.
    active = django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method="_active",
                                         help_text="Only queued and running jobs (true) or only finished ones (false)")
    state = django_filters.MultipleChoiceFilter(choices=Job.STATES)
    kind = django_filters.CharFilter()
    version = django_filters.CharFilter(field_name="version_id", help_text="Jobs of this version")

    class Meta:
        model = Job
        fields = ["active", "state", "kind", "version"]

    def _active(self, queryset, name, value):
        return queryset.filter(state__in=Job.ACTIVE) if value == "true" else queryset.exclude(state__in=Job.ACTIVE)
