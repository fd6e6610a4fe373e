"""What goes wrong, as exceptions a script can catch by kind; each carries the server's own message."""
from __future__ import annotations


class HyperDataError(Exception):
    """Anything the client refuses or the server answers with an error."""


class ConfigError(HyperDataError):
    """No server or token configured, or an unreadable config file."""


class ApiError(HyperDataError):
    """The server answered 4xx/5xx: `status`, `detail` and `errors` ([{"field", "message"}]) as it sent them."""

    def __init__(self, status: int, detail: str, errors: list | None = None, body=None):
        self.status, self.detail, self.errors, self.body = status, detail, errors or [], body
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors if isinstance(e, dict))
        super().__init__(f"HTTP {status}: {detail}" + (f" ({fields})" if fields else ""))


class NotFoundError(ApiError):
    """404: it does not exist, or you may not see it."""


def raise_for_answer(answer) -> None:
    """Turn an error answer into ApiError (NotFoundError for 404) with the server's detail and field errors."""
    if answer.status_code < 400:
        return
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = str(body.get("detail") or body)
        errors = body.get("errors")
    else:
        detail, errors = (answer.text[:500] or answer.reason), None
    kind = NotFoundError if answer.status_code == 404 else ApiError
    raise kind(answer.status_code, detail, errors, body)
