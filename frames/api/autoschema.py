"""The API's OpenAPI operations document the errors they answer, not only their successes.

Every error the API sends has one shape (frames/api/errors.py: {"detail", "errors": [{"field", "message"}]}), so
each operation lists the statuses it can answer with that body: 400, 401 and 403 always (a bad body, query or
address; no or a bad token; a role too low), 404 where its path or body names an object, 409 on writes (a
published version, a name taken), 412 where it takes If-Match, 413 and 415 where it reads a body (too large, not
JSON), 429 where requests are throttled. What an operation declares itself (a 400 with the invalid frames, a 412
with the current frame) is kept.
"""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from . import serializers as s

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, serializer in self._error_statuses().items():
            if status not in responses:
                responses[status] = self._get_response_for_code(serializer, status, direction=direction)
        return responses

    def _error_statuses(self) -> dict:
        has_body = self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None
        has_path = "{" in self.path
        # 400 everywhere: any request's address may be refused (a NUL in it: hyperdata.middleware).
        statuses = {"400": s.ErrorSerializer, "401": s.ErrorSerializer, "403": s.ErrorSerializer}
        if has_path or has_body:
            statuses["404"] = s.ErrorSerializer
        if self.method in WRITES:
            statuses["409"] = s.ErrorSerializer
        if any(p.get("in") == "header" and p.get("name") == "If-Match" for p in self._get_parameters()):
            statuses["412"] = s.StaleSerializer
        if getattr(self.view, "throttle_classes", None):
            statuses["429"] = s.ErrorSerializer
        if has_body:
            statuses["413"] = s.ErrorSerializer
            statuses["415"] = s.ErrorSerializer
        return statuses
