"""Projects as the acting user may see them.

A project shows nothing of its own but names, so it is visible to whoever sees a dataset in it, and to its
creator (who may have just made it, empty). Staff see every project. Anyone else is told it does not exist.
Renaming and deleting need its creator or staff (`may_manage_project`).
"""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..exceptions import Forbidden, NotFound
from ..models import Project
from .access import _signed_in, visible_datasets


def projects_list(*, user) -> QuerySet[Project]:
    """The projects the user may see, by name, each with `dataset_count`: the datasets in it the user sees."""
    if not _signed_in(user):
        return Project.objects.none()
    seen = visible_datasets(user=user)
    counted = Project.objects.annotate(
        dataset_count=Count("datasets", filter=Q(datasets__in=seen.values("pk")), distinct=True),
    ).select_related("created_by").order_by("name")
    if user.is_staff:
        return counted
    holds_seen = Exists(seen.filter(project_id=OuterRef("pk")))
    return counted.filter(Q(created_by_id=user.pk) | holds_seen)


def project_get(*, user, project_id: str) -> Project:
    """The project, with `dataset_count`; NotFound when the user may not see it (or it does not exist)."""
    project = projects_list(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound(f"no project with id {project_id!r}", field="project")
    return project


def may_manage_project(user, project: Project) -> bool:
    """Whether the user may rename or delete the project: its creator, or staff."""
    if not _signed_in(user):
        return False
    return bool(user.is_staff or (project.created_by_id is not None and project.created_by_id == user.pk))


def require_project_manager(user, project: Project) -> None:
    if not may_manage_project(user, project):
        raise Forbidden("only the creator of this project (or staff) can rename or delete it", field="project")
