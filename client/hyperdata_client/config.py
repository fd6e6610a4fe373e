"""Where the server is and who we are: environment variables first, then the config file `login` writes.

HYPERDATA_API_URL and HYPERDATA_API_TOKEN win over the file, so a CI job can point one script elsewhere without
touching the user's saved login. The file is ~/.config/hyperdata/config.json unless HYPERDATA_CONFIG names
another; it holds {"api_url": ..., "token": ...} and is written readable by its owner only (it holds a token).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import requests

from .errors import ConfigError, raise_for_answer


@dataclass(frozen=True)
class Config:
    api_url: str  # the server's root, e.g. https://hyperdata.example.com (no /api/)
    token: str


def config_path() -> Path:
    named = os.environ.get("HYPERDATA_CONFIG")
    if named:
        return Path(named).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "hyperdata" / "config.json"


def _root(url: str) -> str:
    """The server's root from what a user may paste: with or without a trailing slash or /api/."""
    url = url.strip().rstrip("/")
    return url[: -len("/api")] if url.endswith("/api") else url


def load_config() -> Config:
    """The configuration in effect, or ConfigError saying what is missing and how to provide it."""
    saved = {}
    path = config_path()
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc}); run login() again or delete it") from None
    url = os.environ.get("HYPERDATA_API_URL") or saved.get("api_url")
    token = os.environ.get("HYPERDATA_API_TOKEN") or saved.get("token")
    if not url or not token:
        missing = " and ".join(name for name, value in (("HYPERDATA_API_URL", url), ("HYPERDATA_API_TOKEN", token)) if not value)
        raise ConfigError(f"no {missing}: set the environment variable(s) or call hyperdata_client.login(url, username, password) "
                          f"to write {path}")
    return Config(api_url=_root(url), token=token)


def save_config(config: Config) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.touch(mode=0o600)
    temporary.write_text(json.dumps({"api_url": config.api_url, "token": config.token}, indent=2))
    temporary.replace(path)  # a reader never sees half a file
    return path


def login(url: str, username: str, password: str) -> Path:
    """Trade a username and password for an API token and save both server and token; returns the file."""
    root = _root(url)
    answer = requests.post(f"{root}/api/auth/token/", data={"username": username, "password": password}, timeout=30)
    raise_for_answer(answer)
    return save_config(Config(api_url=root, token=answer.json()["token"]))
