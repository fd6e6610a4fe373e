"""The frame models of frames/schema.py as OpenAPI components, so the documented frame is the validated one.

drf-spectacular's pydantic support (drf_spectacular.contrib.pydantic) asks pydantic for the model's JSON
Schema and files its `$defs` as components. pydantic writes JSON Schema 2020-12, where a field that may be
null is `anyOf: [..., {"type": "null"}]`; the OpenAPI 3.0 schema drf-spectacular emits says `nullable: true`
instead (and `--validate` refuses `"type": "null"`). FrameModelExtension is that support with the 3.0 form.
"""
from __future__ import annotations

from drf_spectacular.contrib.pydantic import PydanticExtension
from drf_spectacular.plumbing import ResolvedComponent
from pydantic import BaseModel, RootModel
from pydantic.json_schema import GenerateJsonSchema

from ..schema import FrameInput, FrameUpdate


class OpenApi30JsonSchema(GenerateJsonSchema):
    """pydantic's JSON Schema in OpenAPI 3.0's words."""

    def nullable_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if "$ref" in inner:  # OpenAPI 3.0 ignores keywords beside a $ref
            return {"allOf": [inner], "nullable": True}
        if "enum" in inner:  # `nullable` does not lift an enum's own restriction
            inner = {**inner, "enum": [*inner["enum"], None]}
        return {**inner, "nullable": True}

    def literal_schema(self, schema):
        result = super().literal_schema(schema)
        if "const" in result:  # OpenAPI 3.0 has no `const`: a one-value enum says the same
            result = {**{k: v for k, v in result.items() if k != "const"}, "enum": [result["const"]]}
        return result

    def field_title_should_be_set(self, schema) -> bool:
        return False  # "Content Type" above content_type says nothing the property name does not


class FrameModelExtension(PydanticExtension):
    """Takes over from drf-spectacular's own pydantic extension (higher priority); named after the class."""

    priority = 1

    def map_serializer(self, auto_schema, direction):
        schema = self.target.model_json_schema(
            ref_template="#/components/schemas/{model}", schema_generator=OpenApi30JsonSchema, mode="serialization",
        )
        for name, definition in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=definition)
            )
        return schema


JSON = "application/json"  # frames are written as JSON only: a form cannot carry a list of frames

# The bodies of the bulk frame writes (frames.api.views.frames.frames_from_body reads them).

class FramesToAdd(BaseModel):
    frames: list[FrameInput]


class FramesAddBody(RootModel[list[FrameInput] | FramesToAdd]):
    """Frames to add: a list of frames, or {"frames": [...]}."""


class FramesToUpdate(BaseModel):
    frames: list[FrameUpdate]


class FramesUpdateBody(RootModel[list[FrameUpdate] | FramesToUpdate]):
    """Changes to stored frames, each naming its frame by `id`: a list, or {"frames": [...]}."""
