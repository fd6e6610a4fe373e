"""The filters of the list endpoints and pages (django-filter): which query parameters narrow a list of
datasets, versions or jobs, and how. The API documents them from here; the dataset list page uses the same."""
from __future__ import annotations

import django_filters

from ..models import Dataset, DatasetVersion, Job
from .datasets import search_q, tag_q


class DatasetFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="_search", help_text="Name, id, description or tag")
    tag = django_filters.CharFilter(method="_tag", help_text="Datasets with this tag")
    created_by_me = django_filters.BooleanFilter(method="_created_by_me", help_text="Only datasets I created")

    class Meta:
        model = Dataset
        fields = ["search", "tag", "created_by_me"]

    def _search(self, queryset, name, value):
        return queryset.filter(search_q(value.strip())) if value.strip() else queryset

    def _tag(self, queryset, name, value):
        return queryset.filter(tag_q(value))

    def _created_by_me(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return queryset.filter(created_by_id=getattr(user, "pk", None)) if value else queryset


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
