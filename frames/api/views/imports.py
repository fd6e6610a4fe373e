"""Imports into a draft version: POST a file (multipart) or name a file or folder on the server (JSON); the
import, or its dry run, runs as a job whose result is the report (frames, labels, problems with file, line
and field). GET /api/jobs/<id>/ follows it."""
from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...importers.formats import FORMATS
from .. import serializers as s
from ..parsers import FormParser, JSONParser, MultiPartParser
from .common import validated


class _JsonObjectField(serializers.JSONField):
    """A JSON object, also when a multipart form sends it as text."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data or "{}")
            except json.JSONDecodeError as exc:
                raise serializers.ValidationError(f"is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object")
        return data


class ImportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=sorted(FORMATS), help_text="The input's format")
    file = serializers.FileField(required=False, help_text="The file to import (a .zip is extracted: a folder)")
    path = serializers.CharField(required=False, allow_blank=True, default="", help_text="Or a file or folder on the server, inside HYPERDATA_MEDIA_ROOTS")
    media_root = serializers.CharField(required=False, allow_blank=True, default="", help_text="Folder or cloud prefix that media names resolve against")
    options = _JsonObjectField(required=False, default=dict, help_text="The format's options, e.g. {\"lenient\": true}")
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Read and validate only; the report says what would be imported and refused")
    total = serializers.IntegerField(required=False, min_value=0, allow_null=True, default=None, help_text="Frames expected (from a dry run), for the progress bar")


class VersionImportView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request={"application/json": ImportRequestSerializer, "multipart/form-data": ImportRequestSerializer}, responses={202: s.JobSerializer})
    def post(self, request, version_id):
        """Import frames into a draft (annotators): the job's result is the report; an import with problems
        imports nothing and fails, listing them."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        data = validated(ImportRequestSerializer, request.data)
        job = services.import_start(
            user=request.user, version=version, format=data["format"], path=data["path"], upload=data.get("file"),
            media_root=data["media_root"], options=data["options"], dry_run=data["dry_run"], total=data["total"],
        )
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
