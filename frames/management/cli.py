"""What the import and export commands share: who acts, and which version they work on."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from frames import selectors, services
from frames.selectors.access import visible_datasets
from frames.exceptions import ServiceError
from frames.models import Dataset, DatasetVersion


def acting_user(username: str | None):
    """The user named by --user, or else the first superuser (the commands act as a person, who is checked
    and recorded like anyone using the API)."""
    users = get_user_model().objects
    user = users.filter(username=username).first() if username else users.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise CommandError(f"--user: no user {username!r}" if username else "--user: there is no superuser; name a user")
    return user


def version_for(user, *, version_id: str | None, dataset: str | None, create: bool = False, draft: bool = False) -> DatasetVersion:
    """--version-id ID, or --dataset NAME_OR_ID: its newest draft when `draft` (else its newest version); with
    `create`, a dataset of that name is made first when there is none."""
    try:
        if version_id:
            return selectors.version_get(user=user, version_id=version_id)
        if not dataset:
            raise CommandError("name the version: --version-id ID or --dataset NAME")
        found = visible_datasets(user=user).filter(name=dataset).first() or visible_datasets(user=user).filter(pk=dataset).first()
        if found is None and create:
            found = services.dataset_create(user=user, name=dataset)
        if found is None:
            raise CommandError(f"--dataset: no dataset {dataset!r} (add --create to make it)")
        return _newest(found, draft=draft)
    except ServiceError as exc:
        raise CommandError(f"{exc.errors[0]['field']}: {exc.message}") from None


def _newest(dataset: Dataset, *, draft: bool) -> DatasetVersion:
    versions = dataset.versions.select_related("dataset").order_by("-seq")
    version = (versions.filter(status=DatasetVersion.DRAFT) if draft else versions).first()
    if version is None:
        raise CommandError(f"--dataset: {dataset.name!r} has no draft version; make one (a child of a published version) or pass --version-id")
    return version
