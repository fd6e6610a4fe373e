"""Media uploads into a draft's dataset (multipart `file`): the SDK sends a frame's local source file here and
puts the answered URI in the frame. Content-addressed, so a retried upload answers the same URI."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ..parsers import FormParser, MultiPartParser
from .common import validated


class UploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The media file (an image, a mask...) a frame's source will name")


class UploadSerializer(serializers.Serializer):
    uri = serializers.CharField(help_text="Where the server keeps it: put this in the frame's source")
    size = serializers.IntegerField(help_text="Bytes stored")
    sha256 = serializers.CharField(help_text="The content's SHA-256 (the same bytes are stored once)")


class VersionUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": UploadRequestSerializer}, responses={201: UploadSerializer})
    def post(self, request, version_id):
        """Upload a media file for the frames of a draft (annotators); answers the URI to use as their source."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(UploadRequestSerializer, request.data)
        stored = services.media_upload(user=request.user, version=version, upload=data["file"])
        return Response(UploadSerializer(stored._asdict()).data, status=status.HTTP_201_CREATED)
