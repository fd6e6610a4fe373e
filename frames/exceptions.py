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
