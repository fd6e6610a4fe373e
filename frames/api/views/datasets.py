"""Datasets, their versions list and their members."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...exceptions import NotFound, ServiceError
from ...models import DatasetVersion
from ...selectors.filtersets import DatasetFilterSet, VersionFilterSet
from .. import serializers as s
from .common import IF_MATCH, PagedListView, if_match, validated, with_etag

DATASET_STALE = s.stale_serializer("DatasetStale", s.DatasetSerializer(allow_null=True))


def dataset_body(user, dataset_id: str) -> dict:
    """A dataset as the API shows it (with its version count and newest version's frame count)."""
    selectors.dataset_get(user=user, dataset_id=dataset_id)
    return s.DatasetSerializer(selectors.datasets_list(user=user).get(pk=dataset_id)).data


class DatasetListView(PagedListView):
    """The datasets you may see, by name, a page at a time with the total."""

    serializer_class = s.DatasetSerializer
    filterset_class = DatasetFilterSet

    def get_queryset(self):
        return selectors.datasets_list(user=self.request.user)

    @extend_schema(request=s.DatasetWriteSerializer, responses={201: s.DatasetSerializer})
    def post(self, request):
        """Create a dataset with one empty draft version, `Current`; you become its owner."""
        dataset = services.dataset_create(user=request.user, **validated(s.DatasetWriteSerializer, request.data))
        body = dataset_body(request.user, dataset.pk)
        return with_etag(body, body["etag"], status.HTTP_201_CREATED)


class DatasetDetailView(APIView):
    def current_representation(self, exc):
        return dataset_body(self.request.user, exc.current.pk)

    @extend_schema(responses={200: s.DatasetSerializer})
    def get(self, request, dataset_id):
        body = dataset_body(request.user, dataset_id)
        return with_etag(body, body["etag"])

    @extend_schema(request=s.DatasetWriteSerializer(partial=True), responses={200: s.DatasetSerializer, 412: DATASET_STALE},
                   parameters=[IF_MATCH])
    def patch(self, request, dataset_id):
        """Change name, description, tags or metadata (owners). With If-Match, only if nobody changed it since."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = validated(s.DatasetWriteSerializer, request.data, partial=True)
        services.dataset_update(user=request.user, dataset=dataset, if_match=if_match(request), **data)
        body = dataset_body(request.user, dataset_id)
        return with_etag(body, body["etag"])

    @extend_schema(responses={204: None, 412: DATASET_STALE}, parameters=[IF_MATCH])
    def delete(self, request, dataset_id):
        """Delete the dataset with all its versions and frames (owners)."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.dataset_delete(user=request.user, dataset=dataset, if_match=if_match(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionListView(PagedListView):
    """The dataset's versions in creation order, a page at a time with the total."""

    serializer_class = s.VersionSerializer
    filterset_class = VersionFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no dataset
            return DatasetVersion.objects.none()
        dataset = selectors.dataset_get(user=self.request.user, dataset_id=self.kwargs["dataset_id"])
        return selectors.versions_list(user=self.request.user, dataset=dataset)

    @extend_schema(request=s.VersionCreateSerializer, responses={201: s.VersionSerializer})
    def post(self, request, dataset_id):
        """Create a child version of a published version (owners); it starts with all of its parent's frames."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = validated(s.VersionCreateSerializer, request.data)
        parent = selectors.version_get(user=request.user, version_id=data.pop("parent"))
        if parent.dataset_id != dataset.id:
            raise ServiceError("the parent version belongs to another dataset", field="parent")
        version = services.version_create(user=request.user, parent=parent, **data)
        return with_etag(s.VersionSerializer(version).data, version.etag, status.HTTP_201_CREATED)


class MemberListView(APIView):
    @extend_schema(responses=s.MemberSerializer(many=True))
    def get(self, request, dataset_id):
        """The dataset's members and their roles (viewer, annotator, owner)."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(s.MemberSerializer(selectors.members_list(user=request.user, dataset=dataset), many=True).data)

    @extend_schema(request=s.MemberWriteSerializer, responses={201: s.MemberSerializer})
    def post(self, request, dataset_id):
        """Give a user a role in the dataset, or change it (owners)."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        member = services.member_set(user=request.user, dataset=dataset, **validated(s.MemberWriteSerializer, request.data))
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(request=s.MemberRoleSerializer, responses=s.MemberSerializer)
    def patch(self, request, dataset_id, member_id):
        """Change a member's role (owners). A dataset keeps at least one owner."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        member = _member(request.user, dataset, member_id)
        data = validated(s.MemberRoleSerializer, request.data)
        updated = services.member_set(user=request.user, dataset=dataset, username=member.user.username, role=data["role"])
        return Response(s.MemberSerializer(updated).data)

    @extend_schema(responses={204: None})
    def delete(self, request, dataset_id, member_id):
        """Remove a member (owners). A dataset keeps at least one owner."""
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.member_remove(user=request.user, dataset=dataset, member_id=_member(request.user, dataset, member_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _member(user, dataset, member_id):
    member = next((m for m in selectors.members_list(user=user, dataset=dataset) if str(m.pk) == str(member_id)), None)
    if member is None:
        raise NotFound(f"no member {member_id} in this dataset", field="member")
    return member
