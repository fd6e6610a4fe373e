"""ClearML's DataView over HyperData: queries over dataset versions that the server evaluates with the Frames
tab's own query code, saved on the server (with an id) the first time they are evaluated, so a training run
can name the exact frames it saw (`DataView.get(id)` reads it back).

    dv = DataView(iteration_order="random", iteration_infinite=False)
    dv.add_query(dataset_name="street scenes", version_name="v1", roi_query="car", weight=3)
    dv.set_iteration_parameters(maximum_number_of_frames=1000, random_seed=7)
    for frame in dv.get_iterator():   # sequential: by context, then timestamp; random: seeded draws by weight
                                      # (finite: each frame once per pass; infinite: with replacement)
        ...
"""
from __future__ import annotations

import sys
from typing import Iterator

from .api import api
from .datasets import DatasetVersion
from .errors import HyperDataError
from .frames import FrameGroup, SingleFrame

PAGE_SIZE = 500  # frames per request while iterating (the server allows up to 1000)
ORDERS = ("sequential", "random")


class DataView:
    def __init__(self, name: str | None = None, description: str | None = None, iteration_order: str = "sequential",
                 iteration_infinite: bool = False, iteration_random_seed: int | None = None, **_ignored):
        if iteration_order not in ORDERS:
            raise HyperDataError(f"iteration_order must be sequential or random, not {iteration_order!r}")
        self.id: str | None = None
        self.name = name or ""
        self.description = description
        self.queries: list[dict] = []
        self.iteration_order = iteration_order
        self.iteration_infinite = bool(iteration_infinite)
        self.maximum_number_of_frames: int | None = None
        self.random_seed = 1337 if iteration_random_seed is None else iteration_random_seed
        self.labels: dict[str, int] = {}
        self.mapping_rules: list[dict] = []
        self._saved_body: dict | None = None

    def __repr__(self):
        return f"<DataView {self.id or '(not saved)'} {self.iteration_order}, {len(self.queries)} queries>"

    # -- what it selects -------------------------------------------------------------------------------------
    def add_query(self, dataset_name=None, version_name=None, roi_query=None, frame_query=None, weight: float = 1.0,
                  dataset_id=None, version_id=None, **_ignored) -> None:
        """Frames of one version (named, or by id; no version name: the dataset's current version) that the ROI
        rule and the frame rule (Lucene, as in the Frames tab) match; `weight` is its share of random draws."""
        version = self._version(dataset_id, dataset_name, version_id, version_name)
        self.queries.append({"dataset": version.dataset_id, "version": version.id, "roi_query": _lucene(roi_query),
                             "frame_query": frame_query or "", "weight": weight})

    def add_multi_query(self, dataset_name=None, version_name=None, roi_queries=None, frame_query=None, weight: float = 1.0,
                        dataset_id=None, version_id=None, **_ignored) -> None:
        """Frames with an ROI for each of `roi_queries` (each a Lucene ROI rule, or a dict with `roi_query`), all
        in one frame; `frame_query` and `weight` as in add_query."""
        rules = [{"roi_query": _lucene(q.get("roi_query") if isinstance(q, dict) else q)} for q in roi_queries or []]
        version = self._version(dataset_id, dataset_name, version_id, version_name)
        block = {"rois": rules, **({"frame_query": frame_query} if frame_query else {})}
        self.queries.append({"dataset": version.dataset_id, "version": version.id, "filters": [block], "weight": weight})

    @staticmethod
    def _version(dataset_id, dataset_name, version_id, version_name) -> DatasetVersion:
        return DatasetVersion.get_version(dataset_id=dataset_id, dataset_name=dataset_name, version_id=version_id, version_name=version_name)

    def set_iteration_parameters(self, order: str | None = None, infinite: bool | None = None, maximum_number_of_frames: int | None = None,
                                 random_seed: int | None = None, **_ignored) -> None:
        if order is not None:
            if order not in ORDERS:
                raise HyperDataError(f"order must be sequential or random, not {order!r}")
            self.iteration_order = order
        if infinite is not None:
            self.iteration_infinite = bool(infinite)
        if maximum_number_of_frames is not None:
            self.maximum_number_of_frames = maximum_number_of_frames
        if random_seed is not None:
            self.random_seed = random_seed

    def set_labels(self, labels: dict) -> None:
        """The label enumeration: {label: number}. The server applies it: each annotation the view yields has
        `label_num`, the number of its first enumerated label (after the mapping rules), or None."""
        self.labels = dict(labels)

    def get_labels(self) -> dict:
        return dict(self.labels)

    def add_mapping_rule(self, from_labels, to_label: str, dataset_name=None, version_name=None, dataset_id=None, version_id=None,
                         **_ignored) -> None:
        """Frames come out with `from_labels` renamed to `to_label` (for one version's frames when it is named)."""
        version = None
        if dataset_name or dataset_id or version_id:
            version = self._version(dataset_id, dataset_name, version_id, version_name).id
        self.mapping_rules.append({"from_labels": list(from_labels), "to_label": to_label, "version": version})

    # -- evaluated by the server ---------------------------------------------------------------------------------
    def _body(self) -> dict:
        return {"name": self.name, "queries": self.queries, "iteration_order": self.iteration_order,
                "infinite": self.iteration_infinite, "maximum_number_of_frames": self.maximum_number_of_frames,
                "random_seed": self.random_seed, "labels": self.labels, "mapping_rules": self.mapping_rules}

    def save(self) -> str:
        """Save it on the server (again, when it changed since) and return its id."""
        body = self._body()
        if not self.queries:
            raise HyperDataError("add a query first (add_query)")
        if self.id is None:
            self.id = api().post("dataviews/", body)["id"]
            print(f"HyperData DataView saved: id={self.id}", file=sys.stderr)
        elif body != self._saved_body:
            api().patch(f"dataviews/{self.id}/", body)
        self._saved_body = body
        return self.id

    def get_iterator(self, page_size: int = PAGE_SIZE) -> Iterator["SingleFrame | FrameGroup"]:
        """The frames, page by page as the server evaluates them (an infinite view never ends)."""
        self.save()
        params = {"limit": page_size}
        while True:
            page = api().get(f"dataviews/{self.id}/frames/", params=params)
            yield from (SingleFrame.from_dict(frame) for frame in page["results"])
            if not page.get("cursor"):
                return
            params = {"limit": page_size, "cursor": page["cursor"]}

    def to_list(self) -> list:
        if self.iteration_infinite and self.maximum_number_of_frames is None:
            raise HyperDataError("an infinite DataView has no list: set maximum_number_of_frames or use get_iterator")
        return list(self.get_iterator())

    def get_count(self) -> int:
        """How many frames an iteration yields (for an endless view: how many frames the queries match)."""
        self.save()
        counted = api().get(f"dataviews/{self.id}/count/")
        return counted["count"] if counted["length"] is None else counted["length"]

    # -- saved views ---------------------------------------------------------------------------------------------
    @classmethod
    def get(cls, dataview_id: str) -> "DataView":
        """A saved DataView by id (yours), as it was saved."""
        body = api().get(f"dataviews/{dataview_id}/")
        view = cls(name=body["name"], iteration_order=body["iteration_order"], iteration_infinite=body["infinite"],
                   iteration_random_seed=body["random_seed"])
        view.id = body["id"]
        view.queries = body["queries"]
        view.maximum_number_of_frames = body["maximum_number_of_frames"]
        view.labels, view.mapping_rules = body["labels"], body["mapping_rules"]
        view._saved_body = view._body()
        return view

    @classmethod
    def list(cls) -> list["DataView"]:
        return [cls.get(body["id"]) for body in api().pages("dataviews/")]

    def delete(self) -> None:
        if self.id:
            api().delete(f"dataviews/{self.id}/")
            self.id, self._saved_body = None, None


def _lucene(query) -> str:
    """ClearML scripts often pass a bare label as the ROI query; that is a Lucene term the server reads as a label."""
    return "" if query is None else str(query)
