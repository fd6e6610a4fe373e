"""Projects: the folders datasets live in (list, create, show, rename, delete when empty)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from .. import serializers as s
from .common import PagedListView, validated


def project_body(user, project_id: str) -> dict:
    return s.ProjectSerializer(selectors.project_get(user=user, project_id=project_id)).data


class ProjectListView(PagedListView):
    """The projects you can see (those holding a dataset you can see, and those you made), by name."""

    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        return selectors.projects_list(user=self.request.user)

    @extend_schema(request=s.ProjectWriteSerializer, responses={201: s.ProjectSerializer})
    def post(self, request):
        """Create an empty project; you may rename and delete it."""
        project = services.project_create(user=request.user, **validated(s.ProjectWriteSerializer, request.data))
        return Response(project_body(request.user, project.pk), status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses={200: s.ProjectSerializer})
    def get(self, request, project_id):
        return Response(project_body(request.user, project_id))

    @extend_schema(request=s.ProjectWriteSerializer(partial=True), responses={200: s.ProjectSerializer})
    def patch(self, request, project_id):
        """Rename or describe the project (its creator, or staff)."""
        project = selectors.project_get(user=request.user, project_id=project_id)
        data = validated(s.ProjectWriteSerializer, request.data, partial=True)
        services.project_update(user=request.user, project=project, **data)
        return Response(project_body(request.user, project_id))

    @extend_schema(responses={204: None, 409: None})
    def delete(self, request, project_id):
        """Delete an empty project (its creator, or staff); one that still holds datasets is refused with 409."""
        project = selectors.project_get(user=request.user, project_id=project_id)
        services.project_delete(user=request.user, project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)
