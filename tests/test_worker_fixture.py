"""The celery_worker_process fixture: a real worker subprocess that sees the test database."""
import time

import pytest
from django.contrib.auth import get_user_model


@pytest.mark.django_db(transaction=True)
def test_worker_reads_and_writes_the_test_database(celery_worker_process, celery_smoke_task):
    user = get_user_model().objects.create_user("smoke-user")
    celery_smoke_task.delay(user.username)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        user.refresh_from_db()
        if user.first_name.startswith("worker-"):
            break
        time.sleep(0.1)
    assert user.first_name == f"worker-{_pool_pid(user.first_name)}", celery_worker_process.log()
    assert celery_worker_process.process.poll() is None


def _pool_pid(first_name):
    pid = first_name.removeprefix("worker-")
    assert pid.isdigit(), f"the worker never ran the task (first_name={first_name!r})"
    return pid


@pytest.mark.django_db
def test_the_test_database_can_be_opened_by_another_process():
    """SQLite tests use a file (var/test-<pid>.sqlite3), PostgreSQL tests test_<name>: never :memory:."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        assert name.endswith(".sqlite3") and "memory" not in name, name
    else:
        assert name.startswith("test_"), name
