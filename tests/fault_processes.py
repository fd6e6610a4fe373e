"""Processes the fault tests start, stop and kill themselves (never the machine's shared Redis or PostgreSQL):
a redis-server of their own, Celery workers on a queue of their own, a gunicorn web server, and a throwaway
PostgreSQL cluster."""
from __future__ import annotations

import glob
import http.server
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from PIL import Image

from frames.management.commands.serve import gunicorn_command

from .conftest import BASE_DIR, WORKER_READY_TIMEOUT, WorkerProcess, database_url
from .servers import free_port, wait_for_port

STOP_SECONDS = 20


@dataclass
class RedisServer:
    """A redis-server on a loopback port of its own, which a test may stop and start again (same port, data
    kept in its folder; persist=False: nothing kept, like a Redis run as a cache)."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    persist: bool = True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server") or shutil.which("valkey-server")
        if binary is None:
            pytest.fail("redis-server (or valkey-server) is needed: apt-get install redis-server", pytrace=False)
        log = self.folder / "redis.log"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder), "--save", "",
             "--appendonly", "yes" if self.persist else "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.process, log)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STOP_SECONDS)

    def kill(self) -> None:
        """SIGKILL: what it held in memory only is gone."""
        self.process.kill()
        self.process.wait(timeout=STOP_SECONDS)


def app_env(*, redis_url: str, queue: str, database: str | None = None, **extra: str) -> dict:
    """The environment of a web server or worker of the test's own: the test database (or `database`), its own
    broker and queue, the session's media roots and secrets."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hyperdata.settings",
        "DATABASE_URL": database or database_url(connections["default"].settings_dict),
        "REDIS_URL": redis_url,
        "HYPERDATA_CELERY_QUEUE": queue,
        "HYPERDATA_VAR_DIR": str(settings.VAR_DIR),
        "HYPERDATA_SECRETS_KEY": settings.HYPERDATA_SECRETS_KEY,
        "HYPERDATA_MEDIA_ROOTS": ",".join(settings.HYPERDATA_MEDIA_ROOTS),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "HYPERDATA_ALLOWED_FETCH_NETWORKS": "127.0.0.0/8",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_worker(env: dict, log_path: Path, *, name: str) -> WorkerProcess:
    """A `celery worker` process group (one pool process) on the env's broker and queue, ready when this
    returns (its log says so: a ping would need a control connection to that broker)."""
    hostname = f"{name}-{os.getpid()}@localhost"
    argv = [
        sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "-l", "info", "--concurrency", "1",
        "-Q", env["HYPERDATA_CELERY_QUEUE"], "-n", hostname, "--include", "tests.conftest,tests.worker_jobs",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]
    log_path.write_bytes(b"")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = WorkerProcess(process, hostname, env["HYPERDATA_CELERY_QUEUE"], log_path)
    deadline = time.monotonic() + WORKER_READY_TIMEOUT
    while f"{hostname} ready." not in worker.log():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            pytest.fail(f"the worker {hostname} did not start:\n{worker.log()[-3000:]}", pytrace=False)
        time.sleep(0.2)
    return worker


def kill_worker(worker: WorkerProcess) -> None:
    """SIGKILL to the worker's whole process group (main process and pool children): no shutdown, no acks."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()


def stop_worker(worker: WorkerProcess) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(worker.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    worker.process.wait()


@dataclass
class WebServer:
    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_worker(self)  # the same: SIGTERM to gunicorn's master, then whatever is left of the group


def start_web(env: dict, log_path: Path) -> WebServer:
    """gunicorn as `./run.sh` runs it (one worker), on a free loopback port."""
    port = free_port()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(gunicorn_command(1, f"127.0.0.1:{port}", "--no-control-socket"), cwd=BASE_DIR, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, process, log_path)
    return WebServer(process, f"http://127.0.0.1:{port}", log_path)


@dataclass
class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb) on a loopback port of its own, run as the postgres user (it
    refuses root), in a folder under /tmp that user can reach; `remove` deletes it."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hyperdata-pg-")))
    port: int = field(default_factory=free_port)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        binaries = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
        if not binaries:
            pytest.fail(f"{tool} is needed: apt-get install postgresql", pytrace=False)
        command = [binaries[-1], *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{tool} failed:\n{done.stdout}\n{done.stderr}"

    def init(self) -> "PostgresCluster":
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-l", str(self.folder / "pg.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class ImageServer(http.server.ThreadingHTTPServer):
    """PNG sources on loopback; a GET of `stall.png` holds until `release` is set, telling `arrived` first."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ImageHandler)
        self.arrived, self.release = threading.Event(), threading.Event()
        self.hits: Counter[str] = Counter()  # GETs per path
        self.hits_lock = threading.Lock()
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="PNG")
        self.png = buffer.getvalue()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def uri(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with self.server.hits_lock:
            self.server.hits[self.path] += 1
        if self.path == "/stall.png" and not self.server.release.is_set():
            self.server.arrived.set()
            self.server.release.wait(120)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.server.png)))
        self.end_headers()
        self.wfile.write(self.server.png)

    def log_message(self, *args):
        pass
