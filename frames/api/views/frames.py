"""Frames in ClearML's JSON form: pages under a query, bulk add/update/delete, one frame; Group by URL."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...exceptions import NotFound, ServiceError
from ...services import positions as position_services
from ...schema import Frame, FrameChanges, FrameInput, frame_etag, saved_from_etags
from .. import serializers as s
from ..openapi import JSON, FramesAddBody, FramesUpdateBody
from .common import FILTER_PARAMETERS, IF_MATCH, OFFSET_PARAMETERS, PAGE_PARAMETERS, SAMPLE_PARAMETERS, SORT_PARAMETERS, flag, if_match, next_url, validated, with_etag


def frames_from_body(data):
    if isinstance(data, dict) and "frames" in data:
        data = data["frames"]
    if not isinstance(data, list):
        raise ServiceError('expected a list of frames or {"frames": [...]}', field="frames")
    return data


def write_result(result):
    return {"added": result.added, "replaced": result.replaced, "failed": result.failed, "ids": result.frame_ids}


class FrameListView(APIView):
    @extend_schema(
        parameters=FILTER_PARAMETERS + SAMPLE_PARAMETERS + SORT_PARAMETERS + PAGE_PARAMETERS + OFFSET_PARAMETERS + [
            OpenApiParameter("count", OpenApiTypes.BOOL, description="Count the frames matching a filter (unfiltered counts are always given)"),
        ],
        responses=s.FramePageSerializer,
        operation_id="versions_frames_list",
    )
    def get(self, request, version_id):
        """A page of the version's frames: the filters' frames in the sort order, after `cursor` or from `offset`
        (or `page`): with an offset the body also has `offset` and `count` (an offset past the end answers no
        frames, with the count)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        query = selectors.parse_frame_query(request.query_params, positions=True)
        if query.offset is not None:
            page = position_services.frames_page_at(user=request.user, version=version, query=query, offset=query.offset)
        else:
            page = selectors.frames_browse(user=request.user, version=version, query=query)
        results = selectors.frames_to_dicts(page.frames, user=request.user, version=version)
        if query.changed:
            changes = selectors.frame_changes(user=request.user, version=version, rows=page.frames)
            results = [{**frame, "change": changes[frame["id"]]} for frame in results]
        body = {"next": next_url(request, page.next_cursor), "cursor": page.next_cursor, "results": results}
        if query.offset is not None:
            body = {"count": page.total, "offset": query.offset, **body}
        elif not query.filtered or flag(request, "count"):
            count = services.frames_count(user=request.user, version=version, filters=query.filters, changed=query.changed, sample=query.sample)
            body = {"count": count, **body}
        return Response(body)

    @extend_schema(
        request={JSON: FramesAddBody},
        parameters=[OpenApiParameter("partial", OpenApiTypes.BOOL, description="Write the valid frames and list the invalid ones instead of failing the whole request")],
        responses={201: s.FramesWriteResultSerializer, 400: s.FramesInvalidSerializer},
    )
    def post(self, request, version_id):
        """Add frames (annotators; a frame whose id exists is replaced)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        result = services.frames_add(user=request.user, version=version, frames=frames_from_body(request.data), atomic=not flag(request, "partial"))
        return Response(write_result(result), status=status.HTTP_201_CREATED)

    @extend_schema(
        request={JSON: FramesUpdateBody},
        parameters=[OpenApiParameter("partial", OpenApiTypes.BOOL, description="Write the valid frames and list the invalid ones instead of failing the whole request")],
        responses={200: s.FramesWriteResultSerializer, 400: s.FramesInvalidSerializer, 412: s.FramesStaleSerializer},
        operation_id="versions_frames_bulk_partial_update",
    )
    def patch(self, request, version_id):
        """Merge partial frames (each with its id) into existing frames (annotators). A frame that carries the
        `saved` value it was read with is only written if nobody saved it since; otherwise the whole batch is
        refused with 412, listing the stale ids and their current frames."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        result = services.frames_update(user=request.user, version=version, frames=frames_from_body(request.data), atomic=not flag(request, "partial"))
        return Response(write_result(result))


class FrameDeleteView(APIView):
    @extend_schema(request=s.DeleteFramesSerializer, responses=s.FramesDeleteResultSerializer)
    def post(self, request, version_id):
        """Delete frames by id (annotators); ids the version does not show come back in `missing`."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(s.DeleteFramesSerializer, request.data)
        result = services.frames_delete(user=request.user, version=version, frame_ids=data["ids"])
        return Response({"deleted": result.deleted, "missing": result.missing})


class FrameDetailView(APIView):
    def current_representation(self, exc):
        """The frame as it is now (None when it was deleted meanwhile)."""
        version = selectors.version_get(user=self.request.user, version_id=self.kwargs["version_id"])
        try:
            revision = selectors.frame_get(user=self.request.user, version=version, frame_id=self.kwargs["frame_id"])
        except NotFound:
            return None
        return selectors.frames_to_dicts([revision], user=self.request.user, version=version)[0]

    def _shown(self, request, version, frame_id) -> Response:
        revision = selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
        body = selectors.frames_to_dicts([revision], user=request.user, version=version)[0]
        return with_etag(body, frame_etag(revision.saved))

    @extend_schema(responses=Frame)
    def get(self, request, version_id, frame_id):
        version = selectors.version_get(user=request.user, version_id=version_id)
        return self._shown(request, version, frame_id)

    def _write(self, request, version, frame_id, service):
        if not isinstance(request.data, dict):
            raise ServiceError("expected a frame object", field="frame")
        if str(request.data.get("id", frame_id)) != frame_id:
            raise ServiceError("does not match the frame id in the URL", field="id")
        service(user=request.user, version=version, frames=[{**request.data, "id": frame_id}], expected_saved=_expected(request, version, frame_id))
        return self._shown(request, version, frame_id)

    @extend_schema(request={JSON: FrameInput}, responses={200: Frame, 400: s.FramesInvalidSerializer, 412: s.FrameStaleSerializer},
                   parameters=[IF_MATCH])
    def put(self, request, version_id, frame_id):
        """Replace the frame (or create it under this id); annotators. With If-Match, only if nobody saved it
        since it was read (412 with the current frame otherwise)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        return self._write(request, version, frame_id, services.frames_add)

    @extend_schema(request={JSON: FrameChanges}, responses={200: Frame, 400: s.FramesInvalidSerializer, 412: s.FrameStaleSerializer},
                   parameters=[IF_MATCH])
    def patch(self, request, version_id, frame_id):
        """Merge into the frame: given keys replace, meta is merged key by key; annotators, If-Match as PUT."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        selectors.frame_get(user=request.user, version=version, frame_id=frame_id)  # a missing frame is a 404, not a 400
        return self._write(request, version, frame_id, services.frames_update)

    @extend_schema(responses={204: None, 412: s.FrameStaleSerializer}, parameters=[IF_MATCH])
    def delete(self, request, version_id, frame_id):
        version = selectors.version_get(user=request.user, version_id=version_id)
        selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
        services.frames_delete(user=request.user, version=version, frame_ids=[frame_id], expected_saved=_expected(request, version, frame_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _expected(request, version, frame_id) -> dict | None:
    """The frame's write precondition from If-Match: the `saved` values it accepts ("*": the frame exists)."""
    tags = if_match(request)
    if tags is None:
        return None
    if "*" in tags:
        selectors.frame_get(user=request.user, version=version, frame_id=frame_id)
        return None
    return {frame_id: saved_from_etags(tags)}


class ContextListView(APIView):
    @extend_schema(parameters=FILTER_PARAMETERS + SAMPLE_PARAMETERS + PAGE_PARAMETERS + OFFSET_PARAMETERS, responses=s.ContextPageSerializer)
    def get(self, request, version_id):
        """Group by URL: one row per context_id with its frame count and first frame by timestamp, after `cursor`
        or from the context at `offset` (or `page` of `limit` contexts): with an offset the body also has `offset`
        and `count` (how many contexts; past the end: no results)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        query = selectors.parse_frame_query(request.query_params, cursor_columns=selectors.CONTEXT_CURSOR, positions=True)
        extra, page = {}, None
        if query.offset is not None:
            page, total = position_services.contexts_page_at(user=request.user, version=version, query=query, offset=query.offset)
            extra = {"count": total, "offset": query.offset}
        else:
            page = services.contexts_page(user=request.user, version=version, query=query)
        rows = page.contexts if page else []
        firsts = selectors.frames_to_dicts([row.first_frame for row in rows], user=request.user, version=version)
        results = [
            {"context_id": row.context_id, "frame_count": row.frame_count, "first_frame": first}
            for row, first in zip(rows, firsts)
        ]
        cursor = page.next_cursor if page else None
        return Response({**extra, "next": next_url(request, cursor), "cursor": cursor, "results": results})
