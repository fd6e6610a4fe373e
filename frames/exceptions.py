"""Domain errors raised by services and selectors; the API maps each to an HTTP status."""


class ServiceError(Exception):
    """Bad input or a broken business rule (HTTP 400). `errors` is a list of {"field", "message"}."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, errors: list | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else [{"field": field or "non_field_errors", "message": message}]


class NotFound(ServiceError):
    status_code = 404


class TooLarge(ServiceError):
    """A request body over its limit (frames.limits), refused before it is read (HTTP 413)."""

    status_code = 413


class Conflict(ServiceError):
    """The request is valid but the resource's state forbids it (HTTP 409)."""

    status_code = 409


class VersionImmutable(Conflict):
    def __init__(self, version):
        super().__init__(
            f"version {version.name!r} ({version.id}) is published and cannot be changed; "
            "create a child version to make changes",
            field="version",
        )


class FramesInvalid(ServiceError):
    """Some frames of a bulk write are invalid; nothing was written. `failed` lists them."""

    def __init__(self, failed: list[dict]):
        self.failed = failed
        first = failed[0]
        super().__init__(
            f"{len(failed)} frame(s) invalid, nothing was written; first: frames[{first['index']}]",
            errors=[
                {"field": f"frames[{f['index']}].{e['field']}", "message": e["message"]}
                for f in failed
                for e in f["errors"]
            ],
        )


class Forbidden(ServiceError):
    """The user may see the dataset but their role does not allow this (HTTP 403)."""

    status_code = 403


class PreconditionFailed(ServiceError):
    """The client's copy is stale (If-Match / `saved` did not match): someone else saved in between (HTTP 412).
    `current` is what is stored now, for the API to send back."""

    status_code = 412

    def __init__(self, message: str, *, current=None, field: str = "If-Match", errors: list | None = None):
        super().__init__(message, field=field, errors=errors)
        self.current = current


class FramesStale(PreconditionFailed):
    """Frames of a bulk update were read before someone else saved them; nothing was written. `stale` is
    [{"index", "id"}] in request order; `current` the frames as they are now."""

    def __init__(self, stale: list[dict], *, current: list):
        self.stale = [entry["id"] for entry in stale]
        super().__init__(
            f"{len(stale)} frame(s) changed since they were read, nothing was written: {', '.join(self.stale[:20])}",
            current=current,
            errors=[{"field": f"frames[{e['index']}].saved", "message": f"frame {e['id']!r} was saved by someone else since it was read"}
                    for e in stale],
        )
