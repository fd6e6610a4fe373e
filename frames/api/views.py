"""REST API views: thin; they parse the request, call a service or selector, and shape the response."""
import json

from django.db.models import Count, OuterRef, Subquery
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .. import selectors, services
from ..exceptions import ServiceError
from ..filters import FrameFilter, RoiRule, parse_filters
from ..models import DatasetVersion
from . import serializers as s

FILTER_PARAMETERS = [
    OpenApiParameter("filters", OpenApiTypes.STR, description='JSON list of frame filters, e.g. [{"rois": [{"labels": ["car"]}], "frame_query": "meta.weather:sunny"}]'),
    OpenApiParameter("label", OpenApiTypes.STR, many=True, description="Quick filter: frames with an ROI carrying this label (repeat to require several)"),
    OpenApiParameter("frame_query", OpenApiTypes.STR, description="Lucene rule on meta.*, e.g. meta.speed:[10 TO 60]"),
    OpenApiParameter("sources_query", OpenApiTypes.STR, description="Lucene rule on sources.*, e.g. sources.content_type:video*"),
]
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The `cursor` of the previous page"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1..1000 (default 100)"),
]


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def filters_from_params(params) -> list[FrameFilter]:
    shortcuts = {k: params.get(k) for k in ("frame_query", "sources_query") if params.get(k)}
    labels = params.getlist("label")
    raw = params.get("filters")
    if raw and (shortcuts or labels):
        raise ServiceError("use either filters or the label/frame_query/sources_query shortcuts", field="filters")
    if raw:
        try:
            return parse_filters(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise ServiceError(f"not valid JSON: {exc}", field="filters") from None
    if not (shortcuts or labels):
        return []
    parsed = parse_filters([shortcuts])[0]
    rules = tuple(RoiRule(labels=(label,)) for label in labels)
    return [FrameFilter(roi_rules=rules, frame_query=parsed.frame_query, sources_query=parsed.sources_query)]


def page_limit(params) -> int:
    raw = params.get("limit", selectors.DEFAULT_PAGE_SIZE)
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise ServiceError(f"must be a whole number, got {raw!r}", field="limit") from None
    if not 1 <= limit <= selectors.MAX_PAGE_SIZE:
        raise ServiceError(f"must be between 1 and {selectors.MAX_PAGE_SIZE}", field="limit")
    return limit


def next_url(request, cursor):
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def frames_from_body(data):
    if isinstance(data, dict) and "frames" in data:
        data = data["frames"]
    if not isinstance(data, list):
        raise ServiceError('expected a list of frames or {"frames": [...]}', field="frames")
    return data


def write_result(result):
    return {"added": result.added, "replaced": result.replaced, "failed": result.failed, "ids": result.frame_ids}


def partial_flag(request) -> bool:
    return request.query_params.get("partial", "").lower() in ("1", "true", "yes")


# -- datasets -------------------------------------------------------------------------------------------------


def annotated_datasets(qs):
    newest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-seq")
    return qs.annotate(
        version_count=Count("versions", distinct=True),
        frame_count=Subquery(newest.values("frame_count")[:1]),
    )


class DatasetListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Name, id, description or tag")],
        responses=s.DatasetSerializer(many=True),
    )
    def get(self, request):
        datasets = annotated_datasets(selectors.datasets_list(search=request.query_params.get("search", "")))
        return Response(s.DatasetSerializer(datasets, many=True).data)

    @extend_schema(request=s.DatasetWriteSerializer, responses={201: s.DatasetSerializer})
    def post(self, request):
        dataset = services.dataset_create(**validated(s.DatasetWriteSerializer, request.data))
        dataset = annotated_datasets(selectors.datasets_list()).get(pk=dataset.pk)
        return Response(s.DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(APIView):
    def get_object(self, dataset_id):
        selectors.dataset_get(dataset_id=dataset_id)
        return annotated_datasets(selectors.datasets_list()).get(pk=dataset_id)

    @extend_schema(responses=s.DatasetSerializer)
    def get(self, request, dataset_id):
        return Response(s.DatasetSerializer(self.get_object(dataset_id)).data)

    @extend_schema(request=s.DatasetWriteSerializer(partial=True), responses=s.DatasetSerializer)
    def patch(self, request, dataset_id):
        data = validated(lambda data: s.DatasetWriteSerializer(data=data, partial=True), request.data)
        services.dataset_update(dataset=selectors.dataset_get(dataset_id=dataset_id), **data)
        return Response(s.DatasetSerializer(self.get_object(dataset_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, dataset_id):
        services.dataset_delete(dataset=selectors.dataset_get(dataset_id=dataset_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- versions -----------------------------------------------------------------------------------------------


class VersionListView(APIView):
    @extend_schema(responses=s.VersionSerializer(many=True))
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        return Response(s.VersionSerializer(selectors.versions_list(dataset=dataset), many=True).data)

    @extend_schema(request=s.VersionCreateSerializer, responses={201: s.VersionSerializer})
    def post(self, request, dataset_id):
        """Create a child version of a published version; it starts with all of its parent's frames."""
        dataset = selectors.dataset_get(dataset_id=dataset_id)
        data = validated(s.VersionCreateSerializer, request.data)
        parent = selectors.version_get(version_id=data.pop("parent"))
        if parent.dataset_id != dataset.id:
            raise ServiceError("the parent version belongs to another dataset", field="parent")
        version = services.version_create(parent=parent, **data)
        return Response(s.VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(APIView):
    @extend_schema(responses=s.VersionSerializer)
    def get(self, request, version_id):
        return Response(s.VersionSerializer(selectors.version_get(version_id=version_id)).data)

    @extend_schema(request=s.VersionUpdateSerializer, responses=s.VersionSerializer)
    def patch(self, request, version_id):
        data = validated(s.VersionUpdateSerializer, request.data)
        version = services.version_update(version=selectors.version_get(version_id=version_id), **data)
        return Response(s.VersionSerializer(version).data)

    @extend_schema(responses={204: None})
    def delete(self, request, version_id):
        services.version_delete(version=selectors.version_get(version_id=version_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionPublishView(APIView):
    @extend_schema(request=s.PublishSerializer, responses=s.VersionSerializer(many=True))
    def post(self, request, version_id):
        """Publish a draft (it becomes immutable); with open_child, also open a draft child of it."""
        data = validated(s.PublishSerializer, request.data)
        version = selectors.version_get(version_id=version_id)
        if data["open_child"]:
            versions = services.version_snapshot(version=version, name=data.get("name"), child_name=data.get("child_name"))
        else:
            versions = [services.version_publish(version=version, name=data.get("name"))]
        return Response(s.VersionSerializer(versions, many=True).data)


class VersionSnapshotView(APIView):
    @extend_schema(request=s.SnapshotSerializer, responses=s.VersionSerializer(many=True))
    def post(self, request, version_id):
        """Publish the draft and open a new draft child of it in one step. Returns [published, child]."""
        data = validated(s.SnapshotSerializer, request.data)
        versions = services.version_snapshot(version=selectors.version_get(version_id=version_id), **data)
        return Response(s.VersionSerializer(versions, many=True).data, status=status.HTTP_201_CREATED)


class VersionStatsView(APIView):
    @extend_schema(parameters=FILTER_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request, version_id):
        version = selectors.version_get(version_id=version_id)
        filters = filters_from_params(request.query_params)
        return Response(selectors.version_stats(version=version, filters=filters))


class ContextListView(APIView):
    @extend_schema(parameters=FILTER_PARAMETERS + PAGE_PARAMETERS, responses=s.ContextPageSerializer)
    def get(self, request, version_id):
        """Group by URL: one row per context_id with its frame count and first frame by timestamp."""
        version = selectors.version_get(version_id=version_id)
        page = selectors.contexts_list(
            version=version,
            filters=filters_from_params(request.query_params),
            cursor=request.query_params.get("cursor"),
            limit=page_limit(request.query_params),
        )
        firsts = selectors.frames_to_dicts([row.first_frame for row in page.contexts], version_id=version.id)
        results = [
            {"context_id": row.context_id, "frame_count": row.frame_count, "first_frame": first}
            for row, first in zip(page.contexts, firsts)
        ]
        return Response({"next": next_url(request, page.next_cursor), "cursor": page.next_cursor, "results": results})


# -- frames ---------------------------------------------------------------------------------------------------


class FrameListView(APIView):
    @extend_schema(
        parameters=FILTER_PARAMETERS
        + PAGE_PARAMETERS
        + [
            OpenApiParameter("sort", OpenApiTypes.STR, description="context (default), id, timestamp, saved or meta.<key>"),
            OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"]),
            OpenApiParameter("count", OpenApiTypes.BOOL, description="Count the frames matching a filter (unfiltered counts are always given)"),
        ],
        responses=s.FramePageSerializer,
    )
    def get(self, request, version_id):
        version = selectors.version_get(version_id=version_id)
        params = request.query_params
        filters = filters_from_params(params)
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise ServiceError("must be asc or desc", field="order")
        page = selectors.frames_browse(
            version=version,
            filters=filters,
            sort=params.get("sort", "context"),
            descending=order == "desc",
            cursor=params.get("cursor"),
            limit=page_limit(params),
        )
        body = {
            "next": next_url(request, page.next_cursor),
            "cursor": page.next_cursor,
            "results": selectors.frames_to_dicts(page.frames, version_id=version.id),
        }
        if not filters or params.get("count", "").lower() in ("1", "true", "yes"):
            body = {"count": selectors.frames_count(version=version, filters=filters), **body}
        return Response(body)

    @extend_schema(
        request=s.FramesBodySerializer,
        parameters=[OpenApiParameter("partial", OpenApiTypes.BOOL, description="Write the valid frames and list the invalid ones instead of failing the whole request")],
        responses={201: s.FramesWriteResultSerializer},
    )
    def post(self, request, version_id):
        """Add frames (a frame whose id exists is replaced)."""
        version = selectors.version_get(version_id=version_id)
        result = services.frames_add(version=version, frames=frames_from_body(request.data), atomic=not partial_flag(request))
        return Response(write_result(result), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.FramesBodySerializer, responses=s.FramesWriteResultSerializer)
    def patch(self, request, version_id):
        """Merge partial frames (each with its id) into existing frames."""
        version = selectors.version_get(version_id=version_id)
        result = services.frames_update(version=version, frames=frames_from_body(request.data), atomic=not partial_flag(request))
        return Response(write_result(result))


class FrameDeleteView(APIView):
    @extend_schema(request=s.DeleteFramesSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, version_id):
        """Delete frames by id; ids the version does not show come back in `missing`."""
        version = selectors.version_get(version_id=version_id)
        data = validated(s.DeleteFramesSerializer, request.data)
        result = services.frames_delete(version=version, frame_ids=data["ids"])
        return Response({"deleted": result.deleted, "missing": result.missing})


class FrameDetailView(APIView):
    @extend_schema(responses=s.FrameField)
    def get(self, request, version_id, frame_id):
        version = selectors.version_get(version_id=version_id)
        frame = selectors.frame_get(version=version, frame_id=frame_id)
        return Response(selectors.frames_to_dicts([frame], version_id=version.id)[0])

    def _write(self, request, version_id, frame_id, service):
        version = selectors.version_get(version_id=version_id)
        if not isinstance(request.data, dict):
            raise ServiceError("expected a frame object", field="frame")
        if str(request.data.get("id", frame_id)) != frame_id:
            raise ServiceError("does not match the frame id in the URL", field="id")
        service(version=version, frames=[{**request.data, "id": frame_id}])
        frame = selectors.frame_get(version=version, frame_id=frame_id)
        return Response(selectors.frames_to_dicts([frame], version_id=version.id)[0])

    @extend_schema(request=s.FrameField, responses=s.FrameField)
    def put(self, request, version_id, frame_id):
        """Replace the frame (or create it under this id)."""
        return self._write(request, version_id, frame_id, services.frames_add)

    @extend_schema(request=s.FrameField, responses=s.FrameField)
    def patch(self, request, version_id, frame_id):
        """Merge into the frame: given keys replace, meta is merged key by key."""
        selectors.frame_get(version=selectors.version_get(version_id=version_id), frame_id=frame_id)
        return self._write(request, version_id, frame_id, services.frames_update)

    @extend_schema(responses={204: None})
    def delete(self, request, version_id, frame_id):
        version = selectors.version_get(version_id=version_id)
        selectors.frame_get(version=version, frame_id=frame_id)
        services.frames_delete(version=version, frame_ids=[frame_id])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionPreviewsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, version_id):
        """Preview progress of the version: renditions done, failed and pending, and `as_of` when they were
        counted. Versions over HYPERDATA_PROGRESS_SYNC_FRAMES frames are counted by a worker: the answer is its
        latest count (`counting` is true while a newer one is on its way; no figures before the first)."""
        return Response(selectors.previews_progress(version=selectors.version_get(version_id=version_id)))


class VersionPreviewsRegenerateView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("all", OpenApiTypes.BOOL, description="Re-render every preview, not only failed and unfinished ones")],
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request, version_id):
        """Queue the version's failed and unfinished previews again (works on published versions too:
        previews are derived data, not part of the frames). `queued` says how many; a version over
        HYPERDATA_PROGRESS_SYNC_FRAMES frames is gone through by a worker (`in_worker`, `queued` null)."""
        version = selectors.version_get(version_id=version_id)
        everything = request.query_params.get("all", "").lower() in ("1", "true", "yes")
        queued = services.previews_regenerate_soon(version=version, everything=everything)
        return Response({"queued": queued, "in_worker": queued is None}, status=status.HTTP_202_ACCEPTED)


class ApiRootView(APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response(
            {
                "datasets": reverse("api:dataset-list", request=request),
                "schema": reverse("api:schema", request=request),
                "docs": reverse("api:docs", request=request),
                "token": reverse("api:token", request=request),
            }
        )
