"""Serializers shape and type-check input and output; business rules live in the services."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Dataset, DatasetVersion


class DatasetSerializer(serializers.ModelSerializer):
    version_count = serializers.IntegerField(read_only=True)
    frame_count = serializers.IntegerField(read_only=True, help_text="Frames in the newest version")

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "tags", "metadata", "created", "updated", "version_count", "frame_count"]
        read_only_fields = ["id", "created", "updated"]


class DatasetWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    metadata = serializers.DictField(required=False)


class VersionSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True)
    dataset = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id", "dataset", "name", "parent", "status", "description", "metadata",
            "frame_count", "created", "updated", "published",
        ]
        read_only_fields = fields


class VersionCreateSerializer(serializers.Serializer):
    parent = serializers.CharField(help_text="Id of the published version the child starts from")
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, allow_null=True, default=None)


class VersionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    metadata = serializers.DictField(required=False)


class PublishSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    open_child = serializers.BooleanField(
        default=False, help_text="Also open a draft child (a working copy) of the published version"
    )
    child_name = serializers.CharField(max_length=255, required=False)


class SnapshotSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    child_name = serializers.CharField(max_length=255, required=False)


class DeleteFramesSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.CharField(), allow_empty=False)


@extend_schema_field({"type": "object", "description": "A frame in ClearML Hyper-Datasets JSON form"})
class FrameField(serializers.JSONField):
    pass


class FramesBodySerializer(serializers.Serializer):
    """For the schema: frames are sent as a list, or as {"frames": [...]}."""

    frames = serializers.ListField(child=FrameField())


class FramePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False)
    next = serializers.CharField(allow_null=True)
    cursor = serializers.CharField(allow_null=True)
    results = serializers.ListField(child=FrameField())


class FramesWriteResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    replaced = serializers.IntegerField()
    failed = serializers.ListField(child=serializers.DictField())
    ids = serializers.ListField(child=serializers.CharField())


class ContextSerializer(serializers.Serializer):
    context_id = serializers.CharField()
    frame_count = serializers.IntegerField()
    first_frame = FrameField()


class ContextPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    cursor = serializers.CharField(allow_null=True)
    results = ContextSerializer(many=True)
