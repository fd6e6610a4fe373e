"""One HTTP connection to the REST API, authenticated with the configured token.

`api()` hands out a client for the configuration in effect; it is rebuilt when the configuration changes (a
script that logs in, or a test that points the environment at another server), else reused so its connection
pool is kept.
"""
from __future__ import annotations

import os
import time

import requests

from .config import Config, load_config
from .errors import raise_for_answer

TIMEOUT = 120  # seconds; a bulk write of a large batch can take a while on a busy server
RETRIABLE_STATUS = {429, 502, 503, 504}


class Api:
    def __init__(self, config: Config):
        self.config = config
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Token {config.token}", "Accept": "application/json"})

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.config.api_url}/api/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, retries: int = 0, **kwargs):
        """The answer's JSON (None for 204); raises ApiError for 4xx/5xx. With `retries`, a lost connection or a
        busy server (429, 502-504) is tried again that many times, waiting a little longer each time."""
        attempt = 0
        while True:
            try:
                answer = self.http.request(method, self.url(path), timeout=TIMEOUT, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= retries:
                    raise
            else:
                with answer:  # hands the connection back to the pool even when an error keeps `answer` alive
                    if answer.status_code not in RETRIABLE_STATUS or attempt >= retries:
                        raise_for_answer(answer)
                        return answer.json() if answer.content else None
            attempt += 1
            time.sleep(min(0.2 * 2 ** attempt, 10))

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, json=body, **kwargs)

    def upload(self, path, file_path: str, *, retries: int = 0):
        """POST a local file as the multipart field `file`. Its bytes are read once so every retry sends them
        whole (a file object would be at its end after the first attempt)."""
        with open(file_path, "rb") as local:
            content = local.read()
        return self.request("POST", path, retries=retries, files={"file": (os.path.basename(file_path), content)})

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def pages(self, path, params=None):
        """Every result of a paginated list (`next` links, limit/offset or cursor pages alike)."""
        url, query = path, dict(params or {})
        while url:
            body = self.get(url, params=query)
            yield from body["results"]
            url, query = body.get("next"), None


_current: Api | None = None


def api() -> Api:
    global _current
    config = load_config()
    if _current is None or _current.config != config:
        if _current is not None:
            _current.http.close()  # its kept-alive connections would otherwise hold resources on the old server
        _current = Api(config)
    return _current


def close() -> None:
    """Close the client's connections (a server keeps a kept-alive connection, and its resources, until then)."""
    global _current
    if _current is not None:
        _current.http.close()
        _current = None
