"""What the API views share: input validation, write preconditions (If-Match / ETag), parameters."""
from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics
from rest_framework.response import Response

from ...selectors import MAX_PAGE_SIZE
from ..pagination import ListPagination

FILTER_PARAMETERS = [
    OpenApiParameter("filters", OpenApiTypes.STR, description='JSON list of frame filters, OR-ed, e.g. [{"rois": [{"labels": ["car"]}], "frame_query": "meta.weather:sunny"}]'),
    OpenApiParameter("label", OpenApiTypes.STR, many=True, description="Quick filter: frames with an ROI carrying this label (repeat to require several); AND-ed with the filters"),
    OpenApiParameter("frame_query", OpenApiTypes.STR, description="Lucene rule on meta.*, e.g. meta.speed:[10 TO 60]; AND-ed with the filters"),
    OpenApiParameter("sources_query", OpenApiTypes.STR, description="Lucene rule on sources.*, e.g. sources.content_type:video*; AND-ed with the filters"),
    OpenApiParameter("roi_query", OpenApiTypes.STR, description=(
        "Lucene rule on one ROI: labels, confidence, id, meta.* (a bare word is a label), e.g. "
        "labels:car AND confidence:[0.5 TO 1] AND meta.occluded:false; frames with an ROI satisfying all of it; "
        "AND-ed with the filters (an ROI rule can carry its own roi_query in `filters` too)")),
    OpenApiParameter("changed", OpenApiTypes.STR, enum=["any", "added", "edited", "deleted"], description=(
        "Only what this version changed against its parent: frames saved in it that the parent did not show (added) "
        "or showed (edited), and frames it deleted (deleted: the parent's revision is listed); any = all three. "
        "On a root version every frame is added. In a frame list each frame then carries `change`: added, edited or deleted")),
]
SAMPLE_PARAMETERS = [
    OpenApiParameter("sample_by", OpenApiTypes.STR, description="Sample by Property: meta.<key> or label; N frames per value of it, taken from what the filters match"),
    OpenApiParameter("sample_n", OpenApiTypes.INT, description="Frames per value, 1..10000 (default 10)"),
    OpenApiParameter("sample_seed", OpenApiTypes.INT, description="Seed (default 0): the same seed picks the same frames, another seed others"),
]
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The `cursor` of the previous page"),
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size, 1..{MAX_PAGE_SIZE} (default 100)"),
]
OFFSET_PARAMETERS = [
    OpenApiParameter("offset", OpenApiTypes.INT, description=(
        "Start the page at this position (0-based) of the filtered, sorted frames instead of after a cursor; as fast "
        "at any depth as a cursor (a position index). Not with `cursor` or `page`; past the end: no frames, with `count`")),
    OpenApiParameter("page", OpenApiTypes.INT, description="Start at this 1-based page of `limit` frames (offset = (page - 1) * limit); not with `cursor` or `offset`"),
]
SORT_PARAMETERS = [
    OpenApiParameter("sort", OpenApiTypes.STR, description="context (default), id, timestamp, saved, width, height (of the first source) or meta.<key>"),
    OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"]),
]
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, location=OpenApiParameter.HEADER, required=False,
    description="The ETag the client read; a stale one is refused with 412 and the current representation",
)


def validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def if_match(request) -> list[str] | None:
    """The ETags of the request's If-Match header, or None when it has none."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def with_etag(body, etag: str, status: int = 200) -> Response:
    return Response(body, status=status, headers={"ETag": etag})


def next_url(request, cursor):
    if not cursor:
        return None
    params = request.query_params.copy()
    params["cursor"] = cursor
    params.pop("offset", None)  # the cursor says where the next page starts
    params.pop("page", None)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def flag(request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


class PagedListView(generics.ListAPIView):
    """GET: a page of the selector's queryset (`get_queryset`) narrowed by `filterset_class`, with the total."""

    pagination_class = ListPagination
    filter_backends = [DjangoFilterBackend]
