"""For the SDK tests: a user signed in through the SDK's own `login` against the live server.

`sdk_user` makes a user, calls hyperdata_client.login (which trades the password for an API token and writes
the config file, here one in the test's temporary folder) and clears HYPERDATA_API_URL/TOKEN so that file is
what the SDK reads, as it would be on a user's machine after `hyperdata login`.
"""
from __future__ import annotations

import gc

import pytest
from django.contrib.auth.models import User

import hyperdata_client
import hyperdata_client.api

PASSWORD = "pw-sdk-user-12345"


@pytest.fixture
def sdk_user(live_server, transactional_db, settings, tmp_path, monkeypatch):
    settings.HYPERDATA_PREVIEWS_AUTO = False  # no worker in these tests; previews are not what they check
    monkeypatch.setenv("HYPERDATA_CONFIG", str(tmp_path / "hyperdata" / "config.json"))
    monkeypatch.delenv("HYPERDATA_API_URL", raising=False)
    monkeypatch.delenv("HYPERDATA_API_TOKEN", raising=False)
    user = User.objects.create_user("sdk-user", password=PASSWORD)
    hyperdata_client.login(live_server.url, "sdk-user", PASSWORD)
    yield user
    # The live server keeps a database connection per kept-alive HTTP connection: close ours so the test
    # database can be dropped at the end. An exception a test kept (pytest.raises) holds the frames, and so the
    # sockets, of the call that raised it in a reference cycle: collect it first.
    gc.collect()
    hyperdata_client.api.close()
