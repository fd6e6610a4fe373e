"""Projects: create, rename/describe, delete; and which project a new or moved dataset goes to."""
from __future__ import annotations

from django.db import transaction

from ..exceptions import Conflict, Forbidden, NotFound, ServiceError
from ..models import Project
from ..selectors.projects import project_get, require_project_manager
from .validation import clean_text, unique_name


@transaction.atomic
def project_create(*, user, name, description="") -> Project:
    """A new, empty project; its creator may rename and delete it."""
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("sign in to create projects", field="user")
    name = unique_name(Project, name, kind="project")
    creator = user if user.pk is not None else None
    return Project.objects.create(name=name, description=clean_text(description or "", field_name="description"), created_by=creator)


@transaction.atomic
def project_update(*, user, project: Project, name=None, description=None) -> Project:
    require_project_manager(user, project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if name is not None:
        project.name = unique_name(Project, name, kind="project", instance=project)
    if description is not None:
        project.description = clean_text(description, field_name="description")
    project.save()
    return project


@transaction.atomic
def project_delete(*, user, project: Project) -> None:
    """Delete an empty project. One that holds datasets (any, also ones the user cannot see) is refused:
    deleting datasets is their owners' decision, one dataset at a time."""
    require_project_manager(user, project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    held = project.datasets.count()
    if held:
        raise Conflict(
            f"project {project.name!r} still holds {held} dataset{'s' if held != 1 else ''}: "
            "move them to another project or delete them first", field="project",
        )
    project.delete()


def project_for_dataset(*, user, project_id=None, new_project=None) -> Project:
    """The project a dataset is created in or moved to: a project the user can see (`project_id`), a new one
    they name (`new_project`), or, with neither, the default project (made when it does not exist, as a
    ClearML user expects every dataset to live somewhere). Runs inside the caller's transaction."""
    if project_id and new_project:
        raise ServiceError("choose a project or name a new one, not both", field="new_project")
    if new_project:
        return project_create(user=user, name=new_project)
    if project_id:
        try:
            return project_get(user=user, project_id=project_id)
        except NotFound as exc:
            raise ServiceError(exc.message, field="project") from None  # bad input here, not a missing page
    project, _ = Project.objects.get_or_create(name=Project.DEFAULT_NAME)
    return project
