"""One error shape for the whole API: {"detail": "...", "errors": [{"field": "...", "message": "..."}]}."""
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import FramesInvalid, FramesStale, PreconditionFailed, ServiceError


def _flatten(detail, prefix=""):
    """DRF's nested ValidationError detail as a flat list of {"field", "message"}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            yield from _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
    elif isinstance(detail, list):
        if all(isinstance(item, (str, exceptions.ErrorDetail)) for item in detail):
            for item in detail:
                yield {"field": prefix or "non_field_errors", "message": str(item)}
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield {"field": prefix or "non_field_errors", "message": str(detail)}


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"detail": exc.message, "errors": exc.errors}
        if isinstance(exc, FramesInvalid):
            body["failed"] = exc.failed
        if isinstance(exc, FramesStale):
            body["stale"] = exc.stale
        if isinstance(exc, PreconditionFailed):
            body["current"] = _current(exc, context)
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):  # form fields beside the files of a multipart body
        return Response({"detail": str(exc), "errors": [{"field": "body", "message": str(exc)}]},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        return Response({"detail": str(exc), "errors": [{"field": "body", "message": str(exc)}]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RecursionError):  # JSON nested deeper than Python's parser goes
        return Response({"detail": "the JSON is nested too deeply", "errors": [{"field": "body", "message": "nested too deeply"}]},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return Response({"detail": detail, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response(
            {"detail": str(exc.detail), "errors": [{"field": "body", "message": str(exc.detail)}]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "errors" not in response.data:
        detail = str(response.data.get("detail", ""))
        response.data["errors"] = [{"field": _field_of(exc), "message": detail}]
    return response


def _field_of(exc) -> str:
    """What a request-level refusal (authentication, permission, method, media type...) is about."""
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return "Authorization"
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return "Content-Type"
    if isinstance(exc, exceptions.NotAcceptable):
        return "Accept"
    if isinstance(exc, exceptions.MethodNotAllowed):
        return "method"
    return "non_field_errors"


def _current(exc: PreconditionFailed, context):
    """The representation as it is now, shaped by the view that refused the write (as the service gave it
    when the view has no shape of its own: the stale frames of a bulk update)."""
    shape = getattr(context.get("view"), "current_representation", None)
    return shape(exc) if shape else exc.current
