"""Signed links to media for the browser: worker-made previews, originals through the media proxy, large
renditions of video frames and TIFF pages, and the deep zoom pyramids of large images (status and tiles).

A link names the dataset it was issued for and is signed over it, so the media views can check that the user
who follows it may read that dataset (a non-member gets 404, whoever gave them the link), and cannot be
changed to read another file or another dataset's media. Pure functions: nothing is read or written.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from django.core import signing
from django.urls import reverse

_SOURCE = signing.Signer(salt="hyperdata.source-media")
_VIEW = signing.Signer(salt="hyperdata.source-view")
_PREVIEW = signing.Signer(salt="hyperdata.preview-file")
_PYRAMID = signing.Signer(salt="hyperdata.pyramid-status")
_TILES = signing.Signer(salt="hyperdata.pyramid-tiles")


@lru_cache(maxsize=8)
def _path(name: str) -> str:
    return reverse(name)


def source_url(dataset_id: str, uri: str) -> str:
    """The original of `uri`, streamed from its storage by the media proxy."""
    query = {"d": dataset_id, "uri": uri, "sig": _SOURCE.signature(f"{dataset_id}|{uri}")}
    return _path("viewer:source-media") + "?" + urlencode(query)


def source_link_valid(dataset_id: str, uri: str, signature: str) -> bool:
    return signing.constant_time_compare(signature, _SOURCE.signature(f"{dataset_id}|{uri}"))


@dataclass(frozen=True)
class ViewLink:
    """What a large-rendition link asks for: a source's uri, read as image or video, at a time or page."""

    dataset_id: str
    uri: str
    media: str
    timestamp: int
    page: int

    def signed_text(self) -> str:
        return "|".join([self.dataset_id, self.uri, self.media, str(self.timestamp), str(self.page)])


def view_url(link: ViewLink) -> str:
    query = {"d": link.dataset_id, "uri": link.uri, "media": link.media, "t": str(link.timestamp), "page": str(link.page)}
    return _path("viewer:source-view") + "?" + urlencode({**query, "sig": _VIEW.signature(link.signed_text())})


def view_link_from(params) -> ViewLink | None:
    """The ViewLink of a request's parameters, or None when they were not issued by this server."""
    try:
        link = ViewLink(params.get("d", ""), params.get("uri", ""), params.get("media", ""), int(params.get("t", "")), int(params.get("page", "")))
    except ValueError:
        return None
    if link.media not in ("image", "video") or not signing.constant_time_compare(params.get("sig", ""), _VIEW.signature(link.signed_text())):
        return None
    return link


def preview_url(dataset_id: str, file_name: str) -> str:
    """A worker-made preview file (`previews/ab/<key>.jpg`)."""
    sig = _PREVIEW.signature(f"{dataset_id}|{file_name}")
    return f"{_preview_prefix()}{file_name}?{urlencode({'d': dataset_id, 'sig': sig})}"


@lru_cache(maxsize=1)
def _preview_prefix() -> str:
    return reverse("viewer:preview-file", args=["-"])[:-1]


def preview_link_valid(dataset_id: str, file_name: str, signature: str) -> bool:
    return signing.constant_time_compare(signature, _PREVIEW.signature(f"{dataset_id}|{file_name}"))


@dataclass(frozen=True)
class PyramidLink:
    """What a pyramid status link asks about: one source of one frame in a version of the dataset."""

    dataset_id: str
    version_id: str
    frame_id: str
    source_id: str

    def signed_text(self) -> str:
        return "|".join([self.dataset_id, self.version_id, self.frame_id, self.source_id])


def pyramid_status_url(link: PyramidLink) -> str:
    query = {"d": link.dataset_id, "v": link.version_id, "f": link.frame_id, "s": link.source_id}
    return _path("viewer:pyramid-status") + "?" + urlencode({**query, "sig": _PYRAMID.signature(link.signed_text())})


def pyramid_link_from(params) -> PyramidLink | None:
    """The PyramidLink of a request's parameters, or None when they were not issued by this server."""
    link = PyramidLink(params.get("d", ""), params.get("v", ""), params.get("f", ""), params.get("s", ""))
    if not signing.constant_time_compare(params.get("sig", ""), _PYRAMID.signature(link.signed_text())):
        return None
    return link


def pyramid_tile_url(dataset_id: str, pyramid_id: str, tile_format: str) -> str:
    """The URL of every tile of a pyramid, with `{level}`, `{x}` and `{y}` left for the viewer to fill in."""
    sig = _TILES.signature(f"{dataset_id}|{pyramid_id}")
    return f"{_pyramid_prefix()}{pyramid_id}/{{level}}/{{x}}_{{y}}.{tile_format}?{urlencode({'d': dataset_id, 'sig': sig})}"


@lru_cache(maxsize=1)
def _pyramid_prefix() -> str:
    return reverse("viewer:pyramid-tile", args=["-", "0", "0", "0", "jpeg"]).removesuffix("-/0/0_0.jpeg")


def pyramid_tile_link_valid(dataset_id: str, pyramid_id: str, signature: str) -> bool:
    return signing.constant_time_compare(signature, _TILES.signature(f"{dataset_id}|{pyramid_id}"))
