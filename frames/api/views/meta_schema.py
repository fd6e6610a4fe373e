"""A version's typed custom metadata schema: read it (with the values its frames hold, for pickers), set it."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from ... import selectors
from ...exceptions import ServiceError
from ...selectors.meta_schema import CATEGORICAL, TYPES, meta_field_values, meta_schema_get
from ...services.meta_schema import meta_schema_set
from .. import serializers as s
from .common import IF_MATCH, flag, if_match, with_etag


class MetaFieldSerializer(serializers.Serializer):
    """Only the documentation of a field: the service checks what is sent and names the field that is wrong."""

    name = serializers.CharField(help_text="What people see (default: the path)")
    path = serializers.CharField(help_text="Dotted key inside the frame's meta, e.g. weather.temperature")
    type = serializers.ChoiceField(choices=TYPES, help_text=(
        "One of " + ", ".join(TYPES) + ". Lightly's NUMERIC_INT, NUMERIC_FLOAT, CATEGORICAL_INT, CATEGORICAL_STRING, "
        "CATEGORICAL_BOOLEAN and Encord's boolean, varchar, datetime, uuid, number are accepted and stored as ours"))
    default = serializers.JSONField(allow_null=True, required=False, help_text=(
        "Filled in, on write, for frames without the key; null = no default"))
    values = serializers.ListField(child=serializers.JSONField(), required=False, help_text=(
        "Categorical types only: the values allowed (others are refused on write)"))


class MetaFieldSeenSerializer(MetaFieldSerializer):
    """A field as GET answers it: with ?seen=true, categorical ones also carry `seen` (not required: absent otherwise)."""

    seen = serializers.ListField(child=serializers.DictField(), required=False, help_text=(
        "With ?seen=true, categorical fields only: the most frequent values the frames hold, [{value, count}]"))


class MetaSchemaSerializer(serializers.Serializer):
    fields = MetaFieldSerializer(many=True)
    inherited_from = serializers.CharField(read_only=True, allow_null=True, help_text=(
        "The ancestor version whose schema this is (a child inherits its parent's until it sets its own), or null"))


class MetaSchemaSeenSerializer(MetaSchemaSerializer):
    fields = MetaFieldSeenSerializer(many=True)


EXAMPLE = OpenApiExample("Lightly-like schema", value={"fields": [
    {"name": "Weather", "path": "weather.description", "type": "categorical_string", "default": "nothing"},
    {"name": "Temperature", "path": "weather.temperature", "type": "float", "default": 0.0},
    {"name": "Captured", "path": "captured_at", "type": "datetime", "default": None},
]})


class MetaSchemaView(APIView):
    def current_representation(self, exc):
        return meta_schema_get(user=self.request.user, version=exc.current)

    @extend_schema(
        parameters=[OpenApiParameter("seen", OpenApiTypes.BOOL, description=(
            "Add `seen` to each categorical field: the values the version's frames hold, most frequent first"))],
        responses=MetaSchemaSeenSerializer,
    )
    def get(self, request, version_id):
        """The version's typed metadata fields (its own, or inherited from its nearest ancestor)."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        schema = meta_schema_get(user=request.user, version=version)
        if flag(request, "seen"):
            schema["fields"] = [
                {**field, "seen": meta_field_values(user=request.user, version=version, path=field["path"])}
                if field["type"] in CATEGORICAL else field for field in schema["fields"]
            ]
        return with_etag(schema, version.etag)

    @extend_schema(request=MetaSchemaSerializer, responses={200: MetaSchemaSerializer, 412: s.stale_serializer("MetaSchemaStale", MetaSchemaSerializer(allow_null=True))}, examples=[EXAMPLE],
                   parameters=[IF_MATCH])
    def put(self, request, version_id):
        """Replace a draft version's schema (annotators and owners). Frames written afterwards are checked
        against it: a value of the wrong type is refused naming `meta.<path>`, a missing one gets the default.
        A bad schema is refused as a whole with 400, naming the field (`fields[1].type`) and the reason. The ETag
        is the version's (the schema is its content, like its metadata): a stale If-Match gets 412 and the
        schema as it is now."""
        version = selectors.version_get(user=request.user, version_id=version_id)
        if not isinstance(request.data, dict) or "fields" not in request.data:
            raise ServiceError('send {"fields": [{name, path, type, default, values}, ...]}', field="fields")
        schema = meta_schema_set(user=request.user, version=version, fields=request.data["fields"], if_match=if_match(request))
        version.refresh_from_db(fields=["revision"])
        return with_etag(schema, version.etag)
