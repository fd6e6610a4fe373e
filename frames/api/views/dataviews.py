"""DataViews: a user's saved queries over dataset versions, and the frames the server evaluates them to."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...exceptions import ServiceError
from .. import serializers as s
from .common import PAGE_PARAMETERS, PagedListView, next_url


def dataview_body(user, dataview_id: str) -> dict:
    return s.DataViewSerializer(selectors.dataview_get(user=user, dataview_id=dataview_id)).data


class DataViewListView(PagedListView):
    """Your DataViews, newest first."""

    serializer_class = s.DataViewSerializer

    def get_queryset(self):
        return selectors.dataviews_list(user=self.request.user)

    @extend_schema(request=s.DataViewWriteSerializer, responses={201: s.DataViewSerializer, 404: None})
    def post(self, request):
        """Save a DataView. A query naming a version you cannot see is refused with 404 naming `queries[i].version`."""
        view = services.dataview_create(user=request.user, data=request.data)
        return Response(dataview_body(request.user, view.pk), status=status.HTTP_201_CREATED)


class DataViewDetailView(APIView):
    @extend_schema(responses={200: s.DataViewSerializer})
    def get(self, request, dataview_id):
        return Response(dataview_body(request.user, dataview_id))

    @extend_schema(request=s.DataViewWriteSerializer(partial=True), responses={200: s.DataViewSerializer})
    def patch(self, request, dataview_id):
        """Change the given fields."""
        view = selectors.dataview_get(user=request.user, dataview_id=dataview_id)
        services.dataview_update(user=request.user, dataview=view, data=request.data)
        return Response(dataview_body(request.user, dataview_id))

    @extend_schema(responses={204: None})
    def delete(self, request, dataview_id):
        view = selectors.dataview_get(user=request.user, dataview_id=dataview_id)
        services.dataview_delete(user=request.user, dataview=view)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DataViewFramesView(APIView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=inline_serializer("DataViewFramePage", {
        "next": serializers.URLField(allow_null=True), "cursor": serializers.CharField(allow_null=True),
        "position": serializers.IntegerField(help_text="Frames yielded before this page"),
        "results": serializers.ListField(child=serializers.DictField(), help_text="Frames as the frames API returns them")}))
    def get(self, request, dataview_id):
        """A page of the DataView's frames (each with its dataset and version), after `cursor`: sequential by
        context then timestamp across the queries, or random draws by weight from the view's seed."""
        view = selectors.dataview_get(user=request.user, dataview_id=dataview_id)
        page = services.dataview_frames_page(user=request.user, dataview=view, cursor=request.query_params.get("cursor") or None,
                                             limit=_limit(request.query_params.get("limit")))
        return Response({"next": next_url(request, page.next_cursor), "cursor": page.next_cursor, "position": page.position,
                         "results": page.frames})


class DataViewCountView(APIView):
    @extend_schema(responses=inline_serializer("DataViewCount", {
                       "count": serializers.IntegerField(help_text="Frames the queries match"),
                       "per_query": serializers.ListField(child=serializers.IntegerField()),
                       "length": serializers.IntegerField(allow_null=True, help_text="Frames an iteration yields (null: endless)")}))
    def get(self, request, dataview_id):
        view = selectors.dataview_get(user=request.user, dataview_id=dataview_id)
        counted = selectors.dataview_count(user=request.user, dataview=view)
        return Response({"count": counted.count, "per_query": counted.per_query, "length": counted.length})


def _limit(raw) -> int:
    if raw in (None, ""):
        return selectors.DEFAULT_PAGE_SIZE
    try:
        return int(raw)
    except ValueError:
        raise ServiceError(f"must be a whole number, got {raw!r}", field="limit") from None
