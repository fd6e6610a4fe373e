"""Versions: rename/describe/metadata, publish, snapshot, delete; their statistics and preview progress."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...models import Job
from ...selectors.query import parse_filter_params
from ...selectors.sampling import parse_sample
from .. import serializers as s
from .common import FILTER_PARAMETERS, IF_MATCH, SAMPLE_PARAMETERS, flag, if_match, validated, with_etag

VERSION_STALE = s.stale_serializer("VersionStale", s.VersionSerializer(allow_null=True))


class VersionDetailView(APIView):
    def current_representation(self, exc):
        return s.VersionSerializer(exc.current).data

    @extend_schema(responses=s.VersionSerializer)
    def get(self, request, version_id):
        version = selectors.version_get(user=request.user, version_id=version_id)
        return with_etag(s.VersionSerializer(version).data, version.etag)

    @extend_schema(request=s.VersionUpdateSerializer, responses={200: s.VersionSerializer, 412: VERSION_STALE}, parameters=[IF_MATCH])
    def patch(self, request, version_id):
        """Rename or describe a version, or change a draft's metadata (owners)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(s.VersionUpdateSerializer, request.data)
        version = services.version_update(user=request.user, version=version, if_match=if_match(request), **data)
        return with_etag(s.VersionSerializer(version).data, version.etag)

    @extend_schema(responses={204: None, 412: VERSION_STALE}, parameters=[IF_MATCH])
    def delete(self, request, version_id):
        """Delete a draft version with the changes saved in it (owners)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        services.version_delete(user=request.user, version=version, if_match=if_match(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionPublishView(APIView):
    def current_representation(self, exc):
        return s.VersionSerializer(exc.current).data

    @extend_schema(request=s.PublishSerializer, responses={200: s.VersionSerializer(many=True), 412: VERSION_STALE}, parameters=[IF_MATCH])
    def post(self, request, version_id):
        """Publish a draft (it becomes immutable); with open_child, also open a draft child of it (owners)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(s.PublishSerializer, request.data)
        precondition = if_match(request)
        if data["open_child"]:
            versions = services.version_snapshot(user=request.user, version=version, name=data.get("name"),
                                                 child_name=data.get("child_name"), if_match=precondition)
        else:
            versions = [services.version_publish(user=request.user, version=version, name=data.get("name"), if_match=precondition)]
        return Response(s.VersionSerializer(versions, many=True).data)


class VersionSnapshotView(APIView):
    def current_representation(self, exc):
        return s.VersionSerializer(exc.current).data

    @extend_schema(request=s.SnapshotSerializer, responses={201: s.VersionSerializer(many=True), 412: VERSION_STALE}, parameters=[IF_MATCH])
    def post(self, request, version_id):
        """Publish the draft and open a new draft child of it in one step (owners). Returns [published, child]."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(s.SnapshotSerializer, request.data)
        versions = services.version_snapshot(user=request.user, version=version, if_match=if_match(request), **data)
        return Response(s.VersionSerializer(versions, many=True).data, status=status.HTTP_201_CREATED)


class VersionStatsView(APIView):
    @extend_schema(parameters=FILTER_PARAMETERS + SAMPLE_PARAMETERS, responses={200: OpenApiTypes.OBJECT, 202: s.JobSerializer})
    def get(self, request, version_id):
        """Label statistics under the filters: frames, annotated frames, and per label ROIs, frame labels and
        frames; with sample_by (sample_n, sample_seed), of the frames the Sample by Property picks, as the frame
        list shows them. A question about a version of HYPERDATA_STATS_SYNC_FRAMES frames or more that is not answered
        yet is counted by a job: 202 with the job; ask again when it is done."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        filters = parse_filter_params(request.query_params)
        sample = parse_sample(request.query_params)
        try:
            return Response(services.label_stats(user=request.user, version=version, filters=filters, single_flight=True, sample=sample))
        except services.StatsPending as pending:
            body = s.JobSerializer(pending.job).data if pending.job else {"state": "running", "detail": "another request is counting it"}
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "2"})


class VersionPreviewsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, version_id):
        """Preview progress of the version: renditions done, failed and pending, and `as_of` when they were
        counted. Versions over HYPERDATA_PROGRESS_SYNC_FRAMES frames are counted by a job: the answer is its
        latest count (`counting` is true while a newer one is on its way; no figures before the first)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        return Response(services.previews_progress(user=request.user, version=version))


class VersionPreviewsRegenerateView(APIView):
    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("all", OpenApiTypes.BOOL, description="Re-render every preview, not only failed and unfinished ones")],
        responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request, version_id):
        """Queue the version's failed and unfinished previews again (annotators; works on published versions
        too: previews are derived data). `queued` says how many; a version over HYPERDATA_PROGRESS_SYNC_FRAMES
        frames is gone through by a job (`in_worker`, `queued` null, `job`)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        outcome = services.previews_regenerate(user=request.user, version=version, everything=flag(request, "all"))
        if isinstance(outcome, Job):
            return Response({"queued": None, "in_worker": True, "job": s.JobSerializer(outcome).data}, status=status.HTTP_202_ACCEPTED)
        return Response({"queued": outcome, "in_worker": False}, status=status.HTTP_202_ACCEPTED)
