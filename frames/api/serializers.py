"""Serializers shape and type-check input and output; business rules live in the services."""
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from .. import schema
from ..models import DataView, Dataset, DatasetMember, DatasetVersion, Job, Project
from . import openapi  # noqa: F401  (registers the frame models' OpenAPI extension)


class DatasetSerializer(serializers.ModelSerializer):
    """A dataset as selectors.datasets_list annotates it."""

    version_count = serializers.IntegerField(read_only=True)
    frame_count = serializers.IntegerField(read_only=True, help_text="Frames in the newest version")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Its creator (an owner)")
    project = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Id of the project it belongs to")
    project_name = serializers.CharField(source="project.name", read_only=True)
    etag = serializers.CharField(read_only=True, help_text="The write precondition: send it as If-Match")

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "project", "project_name", "tags", "metadata", "created_by", "created", "updated",
                  "version_count", "frame_count", "etag"]
        read_only_fields = fields


class DatasetWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    project = serializers.CharField(required=False, max_length=32,
                                    help_text='Id of a project you can see; on create, none means the project "General"')
    new_project = serializers.CharField(required=False, max_length=255, help_text="Or: the name of a new project to put it in")
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    metadata = serializers.DictField(required=False)


class ProjectSerializer(serializers.ModelSerializer):
    """A project as selectors.projects_list annotates it."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                              help_text="Who made it (null for the default project)")
    dataset_count = serializers.IntegerField(read_only=True, help_text="Datasets in it that you can see")

    class Meta:
        model = Project
        fields = ["id", "name", "description", "created_by", "created", "dataset_count"]
        read_only_fields = fields


class ProjectWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)


class VersionSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="null for a dataset's first version")
    dataset = serializers.PrimaryKeyRelatedField(read_only=True)
    etag = serializers.CharField(read_only=True, help_text="The write precondition: send it as If-Match")

    class Meta:
        model = DatasetVersion
        fields = [
            "id", "dataset", "name", "parent", "status", "description", "metadata",
            "frame_count", "created", "updated", "published", "etag",
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


@extend_schema_field(schema.Frame)
class FrameField(serializers.JSONField):
    """A frame as the API returns it; its OpenAPI type is frames.schema.Frame."""


class FramePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False, help_text="Given when unfiltered, or filtered with ?count=true")
    next = serializers.CharField(allow_null=True)
    cursor = serializers.CharField(allow_null=True)
    results = serializers.ListField(child=FrameField())


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's path, e.g. rois[1].poly")
    message = serializers.CharField()


class FrameFailureSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The frame's position in the request")
    id = serializers.JSONField(allow_null=True, help_text="Its id as it was sent, if any")
    errors = FieldErrorSerializer(many=True)


class FramesWriteResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    replaced = serializers.IntegerField()
    failed = FrameFailureSerializer(many=True, help_text="With ?partial=true: the frames that were not written, and why")
    ids = serializers.ListField(child=serializers.CharField())


class FramesDeleteResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
    missing = serializers.ListField(child=serializers.CharField(), help_text="Ids the version does not show")


class ErrorSerializer(serializers.Serializer):
    """The API's one error shape."""

    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True)


class StaleSerializer(ErrorSerializer):
    """The client's copy is stale (If-Match): nothing was written; `current` is what is stored now."""

    current = serializers.JSONField(allow_null=True, help_text="The representation as it is now (null: deleted since)")


def stale_serializer(name: str, current: serializers.Serializer):
    """A 412 body whose `current` is typed (`current`: the operation's own representation)."""
    return inline_serializer(name, fields={
        "detail": serializers.CharField(), "errors": FieldErrorSerializer(many=True), "current": current,
    })


class FramesInvalidSerializer(ErrorSerializer):
    """Frames that cannot be written (nothing was), or a body that is not frames."""

    failed = FrameFailureSerializer(many=True, required=False, help_text="The invalid frames, when there were frames")


class FrameStaleSerializer(ErrorSerializer):
    """The frame was saved since the client read it (If-Match or `saved`); nothing was written."""

    stale = serializers.ListField(child=serializers.CharField(), help_text="The frame's id")
    current = FrameField(allow_null=True, help_text="The frame as it is now (null: deleted since)")


class FramesStaleSerializer(ErrorSerializer):
    """Frames of the batch were saved since the client read them (`saved`); nothing was written."""

    stale = serializers.ListField(child=serializers.CharField(), help_text="Ids of the frames saved since they were read")
    current = serializers.ListField(child=FrameField(), help_text="Those frames as they are now (deleted ones left out)")


class ContextSerializer(serializers.Serializer):
    context_id = serializers.CharField()
    frame_count = serializers.IntegerField()
    first_frame = FrameField()


class ContextPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False, help_text="With offset or page: how many contexts there are")
    offset = serializers.IntegerField(required=False, help_text="With offset or page: where this page starts (0-based)")
    next = serializers.CharField(allow_null=True)
    cursor = serializers.CharField(allow_null=True)
    results = ContextSerializer(many=True)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = DatasetMember
        fields = ["id", "username", "role", "created"]
        read_only_fields = fields


class MemberWriteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=DatasetMember.ROLES)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=DatasetMember.ROLES)


class JobSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    dataset = serializers.PrimaryKeyRelatedField(read_only=True)
    version = serializers.PrimaryKeyRelatedField(read_only=True)
    progress = serializers.SerializerMethodField(help_text="done / total between 0 and 1, null while the total is unknown")

    class Meta:
        model = Job
        fields = ["id", "kind", "subject", "user", "dataset", "version", "state", "done", "total", "progress",
                  "message", "error", "result", "created", "started", "finished", "updated"]
        read_only_fields = fields

    def get_progress(self, job) -> float | None:
        if not job.total:
            return 1.0 if job.state == Job.DONE else None
        return round(min(1.0, job.done / job.total), 4)


class DataViewQuerySerializer(serializers.Serializer):
    dataset = serializers.CharField(required=False, help_text="Id of the version's dataset (optional; checked)")
    version = serializers.CharField(help_text="Id of a dataset version you can see")
    roi_query = serializers.CharField(required=False, allow_blank=True, help_text="Lucene rule on one ROI, as the frames API's")
    frame_query = serializers.CharField(required=False, allow_blank=True, help_text="Lucene rule on meta.*, as the frames API's")
    filters = serializers.ListField(child=serializers.DictField(), required=False, help_text="Frame filters (OR-ed blocks), as the frames API's `filters`")
    weight = serializers.FloatField(required=False, default=1, help_text="Share of the random draws (relative to the other queries)")


class DataViewWriteSerializer(serializers.Serializer):
    """What a DataView is made of (the service checks each field and names the bad ones)."""

    name = serializers.CharField(required=False, allow_blank=True)
    queries = DataViewQuerySerializer(many=True)
    iteration_order = serializers.ChoiceField(choices=["sequential", "random"], required=False)
    infinite = serializers.BooleanField(required=False)
    maximum_number_of_frames = serializers.IntegerField(required=False, allow_null=True)
    random_seed = serializers.IntegerField(required=False)
    labels = serializers.DictField(child=serializers.IntegerField(), required=False, help_text="Label enumeration {label: number}")
    mapping_rules = serializers.ListField(child=serializers.DictField(), required=False,
                                          help_text='[{"from_labels": [...], "to_label": "...", "version": id or null}]')


class DataViewSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataView
        fields = ["id", "name", "owner", "queries", "iteration_order", "infinite", "maximum_number_of_frames", "random_seed",
                  "labels", "mapping_rules", "created", "updated"]
        read_only_fields = fields
