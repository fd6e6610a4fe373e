"""A version's frames exported through the API (token or session): ClearML frame JSON (`format=clearml`, one JSON
array), JSON lines (`jsonl`) or COCO (`coco`), with the frames API's filters, streamed one keyset page at a time
by the same selector as the browser's export page. The `hyperdata export` command reads it."""
from __future__ import annotations

import re

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from ... import selectors
from .common import FILTER_PARAMETERS

CONTENT_TYPES = {"clearml": "application/json", "jsonl": "application/x-ndjson", "coco": "application/json"}
FORMAT = OpenApiParameter("format", OpenApiTypes.STR, enum=list(selectors.EXPORT_FORMATS),
                          description="clearml (a JSON array of frames, the default), jsonl (a frame a line) or coco")


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "frames"


class _JsonErrors(DefaultContentNegotiation):
    """`format` names the export's format here, not one of DRF's renderers (its `?format=` override would answer
    404 for `coco`): the answer is the export, or an error in JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class VersionExportView(APIView):
    content_negotiation_class = _JsonErrors

    @extend_schema(parameters=[FORMAT, *FILTER_PARAMETERS], responses={
        (200, "application/json"): OpenApiResponse(OpenApiTypes.ANY, description="clearml: a JSON array of frames; coco: a COCO object"),
        (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="jsonl: a frame a line"),
    })
    def get(self, request, version_id):
        """The version's frames (those the filters select) in the format asked for, as a download; a bad filter or
        format is a 400 naming it, before anything is sent."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        export_format = request.query_params.get("format") or "clearml"
        query = selectors.parse_frame_query(request.query_params)
        chunks = selectors.frames_export(user=request.user, version=version, query=query, export_format=export_format)
        response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[export_format])
        suffix = "_coco" if export_format == "coco" else ""
        name = _file_name(f"{version.dataset.name}_{version.name}_frames{suffix}") + selectors.EXPORT_FORMATS[export_format]
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
