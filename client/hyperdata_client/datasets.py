"""Dataset and DatasetVersion: ClearML's Hyper-Dataset classes over HyperData's REST API.

Versions follow ClearML's rules, which the server enforces: a new dataset has one empty draft, `Current`; a
child is made from a published version; a published version never changes; a snapshot publishes a draft and
opens a draft child in one step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .api import api
from .errors import HyperDataError, NotFoundError
from .frames import FrameGroup, SingleFrame
from .versions import VersionFrames


def _dataset_by_name(name: str) -> dict:
    for body in api().pages("datasets/", {"search": name, "limit": 1000}):
        if body["name"] == name:
            return body
    raise NotFoundError(404, f"no dataset named {name!r} (or you may not see it)")


def dataset_body(dataset_id=None, dataset_name=None) -> dict:
    if dataset_id:
        return api().get(f"datasets/{dataset_id}/")
    if dataset_name:
        return _dataset_by_name(dataset_name)
    raise HyperDataError("name the dataset: dataset_id=... or dataset_name=...")


@dataclass
class Dataset:
    id: str
    name: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    body: dict = field(default_factory=dict, repr=False)

    @classmethod
    def _from(cls, body: dict) -> "Dataset":
        return cls(id=body["id"], name=body["name"], description=body.get("description") or "",
                   tags=list(body.get("tags") or []), metadata=dict(body.get("metadata") or {}), body=body)

    @classmethod
    def create(cls, dataset_name: str, description: str | None = None, tags: list[str] | None = None,
               project: str | None = None, metadata: dict | None = None, **_ignored) -> "Dataset":
        """A new dataset with its empty draft version `Current`; you are its owner."""
        body = {"name": dataset_name, "description": description or "", "tags": list(tags or [])}
        if project:
            body["project"] = project
        if metadata:
            body["metadata"] = metadata
        return cls._from(api().post("datasets/", body))

    @classmethod
    def get(cls, dataset_id: str | None = None, dataset_name: str | None = None, **_ignored) -> "Dataset":
        return cls._from(dataset_body(dataset_id, dataset_name))

    @classmethod
    def exists(cls, dataset_id: str | None = None, dataset_name: str | None = None) -> bool:
        try:
            dataset_body(dataset_id, dataset_name)
        except NotFoundError:
            return False
        return True

    @classmethod
    def delete(cls, dataset_id: str | None = None, dataset_name: str | None = None, **_ignored) -> None:
        """Delete the dataset with all its versions and frames (owners)."""
        api().delete(f"datasets/{dataset_body(dataset_id, dataset_name)['id']}/")

    def get_versions(self, **kwargs) -> list["DatasetVersion"]:
        return DatasetVersion.get_versions(dataset_id=self.id, **kwargs)

    def get_current(self) -> "DatasetVersion":
        return DatasetVersion.get_current(dataset_id=self.id)


class _either:
    """A method callable on the class (naming the dataset and version by keyword, as ClearML's static calls do)
    or on a version object (which is then the version)."""

    def __init__(self, function):
        self.function = function

    def __get__(self, instance, owner):
        def bound(*args, **kwargs):
            version = instance if instance is not None else DatasetVersion.get_version(**_names(kwargs))
            return self.function(version, *args, **kwargs)
        bound.__doc__ = self.function.__doc__
        return bound


NAME_KEYS = ("dataset_id", "dataset_name", "version_id", "version_name")


def _names(kwargs: dict) -> dict:
    return {key: kwargs.pop(key) for key in NAME_KEYS if key in kwargs}


class DatasetVersion(VersionFrames):
    def __init__(self, body: dict):
        self.body = body

    id = property(lambda self: self.body["id"])
    version_id = id
    name = property(lambda self: self.body["name"])
    version_name = name
    dataset_id = property(lambda self: self.body["dataset"])
    parent_id = property(lambda self: self.body.get("parent"))
    status = property(lambda self: self.body["status"])
    is_draft = property(lambda self: self.body["status"] == "draft")
    is_published = property(lambda self: self.body["status"] == "published")
    metadata = property(lambda self: self.body.get("metadata") or {})
    frame_count = property(lambda self: self.body.get("frame_count"))

    def __repr__(self):
        return f"DatasetVersion(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    def reload(self) -> "DatasetVersion":
        self.body = api().get(f"versions/{self.id}/")
        return self

    # -- finding versions --------------------------------------------------------------------------------------
    @classmethod
    def create_new_dataset(cls, dataset_name: str, description: str | None = None, tags=None, **kwargs) -> Dataset:
        """A new dataset (ClearML's name for Dataset.create); its draft is DatasetVersion.get_current(...)."""
        return Dataset.create(dataset_name=dataset_name, description=description, tags=tags, **kwargs)

    @classmethod
    def get_versions(cls, dataset_id=None, dataset_name=None, only_published=False, only_drafts=False,
                     version_name=None, **_ignored) -> list["DatasetVersion"]:
        """The dataset's versions in creation order."""
        dataset = dataset_body(dataset_id, dataset_name)
        params = {"limit": 1000, **({"status": "published"} if only_published else {}), **({"status": "draft"} if only_drafts else {})}
        if version_name:
            params["name"] = version_name
        versions = [cls(body) for body in api().pages(f"datasets/{dataset['id']}/versions/", params)]
        return [v for v in versions if version_name is None or v.name == version_name]

    @classmethod
    def get_version(cls, dataset_id=None, dataset_name=None, version_id=None, version_name=None, **_ignored) -> "DatasetVersion":
        """A version by id, or by name within the dataset; with neither, the dataset's current version."""
        if version_id:
            version = cls(api().get(f"versions/{version_id}/"))
            if dataset_id and version.dataset_id != dataset_id:
                raise NotFoundError(404, f"version {version_id} is not in dataset {dataset_id}")
            return version
        if not version_name:
            return cls.get_current(dataset_id=dataset_id, dataset_name=dataset_name)
        found = cls.get_versions(dataset_id=dataset_id, dataset_name=dataset_name, version_name=version_name)
        if not found:
            raise NotFoundError(404, f"no version named {version_name!r} in dataset {dataset_name or dataset_id!r}")
        return found[-1]

    @classmethod
    def get_current(cls, dataset_id=None, dataset_name=None, **_ignored) -> "DatasetVersion":
        """The version to work in: the newest draft, else the newest published version."""
        versions = cls.get_versions(dataset_id=dataset_id, dataset_name=dataset_name)
        drafts = [v for v in versions if v.is_draft]
        return (drafts or versions)[-1]

    # -- making versions ---------------------------------------------------------------------------------------
    @classmethod
    def create_version(cls, version_name: str, dataset_id=None, dataset_name=None, parent_version_ids=None,
                       parent_version_names=None, description: str = "", metadata: dict | None = None,
                       raise_if_exists: bool = False, **_ignored) -> "DatasetVersion":
        """A draft child of a published version (the named parent, else the newest published one)."""
        dataset = dataset_body(dataset_id, dataset_name)
        existing = cls.get_versions(dataset_id=dataset["id"], version_name=version_name)
        if existing:
            if raise_if_exists:
                raise HyperDataError(f"dataset {dataset['name']!r} already has a version named {version_name!r}")
            return existing[-1]
        parent = cls._parent(dataset["id"], parent_version_ids, parent_version_names)
        body = {"parent": parent.id, "name": version_name, "description": description or ""}
        if metadata:
            body["metadata"] = metadata
        return cls(api().post(f"datasets/{dataset['id']}/versions/", body))

    @classmethod
    def _parent(cls, dataset_id, ids, names) -> "DatasetVersion":
        if ids:
            return cls.get_version(version_id=([ids] if isinstance(ids, str) else ids)[0])
        if names:
            return cls.get_version(dataset_id=dataset_id, version_name=([names] if isinstance(names, str) else names)[0])
        published = cls.get_versions(dataset_id=dataset_id, only_published=True)
        if not published:
            raise HyperDataError("a child version starts from a published version, and this dataset has none: "
                                 "publish its draft first (publish_version or create_snapshot)")
        return published[-1]

    @classmethod
    def create_snapshot(cls, dataset_id=None, dataset_name=None, version_id=None, version_name=None,
                        publish_name: str | None = None, child_name: str | None = None, **_ignored) -> "DatasetVersion":
        """Publish the draft (the named one, else the current draft) and open a draft child of it in one step;
        returns the new draft, where work goes on."""
        draft = cls.get_version(dataset_id=dataset_id, dataset_name=dataset_name, version_id=version_id, version_name=version_name)
        body = {**({"name": publish_name} if publish_name else {}), **({"child_name": child_name} if child_name else {})}
        published, child = api().post(f"versions/{draft.id}/snapshot/", body)
        draft.body = published
        return cls(child)

    def publish_version(self, name: str | None = None) -> "DatasetVersion":
        """Publish this draft: it becomes immutable and can have children."""
        self.body = api().post(f"versions/{self.id}/publish/", {"name": name} if name else {})[0]
        return self

    def delete_version(self) -> None:
        """Delete this draft with the changes saved in it (owners)."""
        api().delete(f"versions/{self.id}/")

    def update_version(self, name=None, description=None, metadata=None) -> "DatasetVersion":
        changes = {k: v for k, v in (("name", name), ("description", description), ("metadata", metadata)) if v is not None}
        self.body = api().patch(f"versions/{self.id}/", changes)
        return self

    # -- mask labels (version metadata, ClearML's form) --------------------------------------------------------
    def set_masks_labels(self, masks_labels: dict) -> None:
        """Map mask pixel values to labels: {(210, 210, 120): ["car"], (147, 44, 209): ["person"], ...}, stored in
        the version's metadata as ClearML does ({"mask_labels": {"_all_": [{"value": [...], "labels": [...]}]}})."""
        entries = [{"value": list(value) if isinstance(value, (list, tuple)) else [value],
                    "labels": [labels] if isinstance(labels, str) else list(labels)} for value, labels in masks_labels.items()]
        self.update_version(metadata={**self.reload().metadata, "mask_labels": {"_all_": entries}})

    def get_masks_labels(self) -> dict:
        """The mask labels as set_masks_labels takes them: {(r, g, b): [labels]}."""
        entries = (self.reload().metadata.get("mask_labels") or {}).get("_all_") or []
        return {tuple(entry["value"]): list(entry.get("labels") or []) for entry in entries}

    # -- frames by id ------------------------------------------------------------------------------------------
    @_either
    def get_single_frame(self, frame_id: str, **_ignored) -> "SingleFrame | FrameGroup":
        """One frame by id (on the class: name the dataset and version, as ClearML's static call does)."""
        return SingleFrame.from_dict(api().get(f"versions/{self.id}/frames/{quote(str(frame_id), safe='/')}/"))

    @_either
    def get_frames_by_ids(self, frame_ids, **_ignored) -> list:
        """These frames, in the order asked; ids the version does not have are left out."""
        frames = []
        for frame_id in frame_ids:
            try:
                frames.append(self.get_single_frame(frame_id))
            except NotFoundError:
                continue
        return frames
