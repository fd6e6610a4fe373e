"""Datasets, versions and members, as the acting user may see them."""
from __future__ import annotations

import json

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery

from ..exceptions import NotFound
from ..models import Dataset, DatasetMember, DatasetVersion
from .access import VIEWER, require, stamp_grant, visible_datasets, with_grant


def datasets_list(*, user) -> QuerySet[Dataset]:
    """The datasets the user may see, by name, each with version_count, the newest version (its name, id,
    status and frame_count) and versions_updated (the latest change of any of its versions). Narrowed by
    filtersets.DatasetFilterSet."""
    newest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-seq")
    return visible_datasets(user=user).annotate(
        version_count=Count("versions", distinct=True),
        newest_version=Subquery(newest.values("name")[:1]),
        newest_version_id=Subquery(newest.values("id")[:1]),
        newest_status=Subquery(newest.values("status")[:1]),
        frame_count=Subquery(newest.values("frame_count")[:1]),
        versions_updated=Max("versions__updated"),
    ).select_related("created_by", "project").order_by("name")


def search_q(text: str) -> Q:
    """Datasets whose name or description contains the text, whose id it is, or that have it in a tag."""
    return Q(name__icontains=text) | Q(id=text) | Q(description__icontains=text) | Q(tags__icontains=text)


def tags_q(tags: list[str], mode: str) -> Q:
    """Datasets with any of the tags, all of them, or none of them (mode "any", "all" or "not")."""
    each = [tag_q(tag) for tag in tags]
    if not each:
        return Q()
    joined = each[0]
    for q in each[1:]:
        joined = (joined & q) if mode == "all" else (joined | q)
    return ~joined if mode == "not" else joined


def tag_q(tag: str) -> Q:
    """Datasets with exactly this tag: the tag as a JSON string inside the list's text, one lookup that SQLite
    and PostgreSQL both have."""
    return Q(tags__icontains=json.dumps(tag))


def dataset_get(*, user, dataset_id: str) -> Dataset:
    """The dataset, with the user's role read in the same query; NotFound for a non-member."""
    datasets = with_grant(Dataset.objects.select_related("created_by", "project"), user=user, dataset_field="pk")
    dataset = datasets.filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound(f"no dataset with id {dataset_id!r}", field="dataset")
    require(user, stamp_grant(dataset, user=user), VIEWER)
    return dataset


def version_get(*, user, version_id: str) -> DatasetVersion:
    """The version (with its dataset and parent), with the user's role read in the same query."""
    versions = with_grant(DatasetVersion.objects.select_related("dataset", "dataset__project", "dataset__created_by", "parent"), user=user, dataset_field="dataset_id")
    version = versions.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no version with id {version_id!r}", field="version")
    require(user, stamp_grant(version, user=user), VIEWER)
    version.dataset._grant = version._grant
    return version


def versions_list(*, user, dataset: Dataset) -> QuerySet[DatasetVersion]:
    require(user, dataset, VIEWER)
    return dataset.versions.order_by("seq")


def version_lineage(*, user, version: DatasetVersion) -> list[DatasetVersion]:
    """The version's ancestors and itself, root first."""
    require(user, version, VIEWER)
    return list(DatasetVersion.objects.filter(dataset_id=version.dataset_id, seq__in=version.lineage).order_by("seq"))


def members_list(*, user, dataset: Dataset) -> list[DatasetMember]:
    """The dataset's members with their users, owners first (any member may see who else is one)."""
    require(user, dataset, VIEWER)
    order = {DatasetMember.OWNER: 0, DatasetMember.ANNOTATOR: 1, DatasetMember.VIEWER: 2}
    members = list(dataset.members.select_related("user"))
    return sorted(members, key=lambda m: (order[m.role], m.user.get_username().lower()))
