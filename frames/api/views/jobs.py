"""Jobs: the work longer than a request (previews, statistics, counts, imports, exports), with progress."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...selectors.filtersets import JobFilterSet
from .. import serializers as s
from .common import PagedListView


class JobListView(PagedListView):
    """Your jobs, newest first (staff: everyone's); `?active=true` for the queued and running ones."""

    serializer_class = s.JobSerializer
    filterset_class = JobFilterSet

    def get_queryset(self):
        return selectors.jobs_list(user=self.request.user)


class JobDetailView(APIView):
    @extend_schema(responses=s.JobSerializer)
    def get(self, request, job_id):
        return Response(s.JobSerializer(selectors.job_get(user=request.user, job_id=job_id)).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request, job_id):
        """Cancel a queued or running job (its user, an owner of its dataset, or staff); 409 once it ended."""
        return Response(s.JobSerializer(services.job_cancel(user=request.user, job_id=job_id)).data)
