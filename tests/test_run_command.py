"""`manage.py serve` end to end: a subprocess on a free port with its own HYPERDATA_VAR_DIR."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from celery import Celery

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 300  # first run: migrations, demo media, collectstatic, then gunicorn and Celery booting
STOP_TIMEOUT = 60


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(root_pid):
    """pid -> command line of every live process below root_pid."""
    parents, cmdlines = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
            cmdlines[int(entry.name)] = cmdline
    found, frontier = {}, [root_pid]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = cmdlines[pid]
                frontier.append(pid)
    return found


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Serve:
    """One `manage.py serve` subprocess and its console output."""

    def __init__(self, var_dir, env_extra=None, drop=("REDIS_URL", "DATABASE_URL")):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var_dir = var_dir
        self.log_path = var_dir.parent / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("HYPERDATA_")}
        env.update(HYPERDATA_VAR_DIR=str(var_dir), **(env_extra or {}))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port)],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def output(self):
        return self.log_path.read_text(errors="replace")

    def wait_running(self):
        deadline = time.monotonic() + START_TIMEOUT
        while "HyperData is running" not in self.output():
            assert self.process.poll() is None, f"serve exited with {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"serve did not start within {START_TIMEOUT} s:\n{self.output()}"
            time.sleep(0.25)
        match = re.search(r"^\s*login\s+(.+?)\s*$", self.output(), re.M)
        assert match, self.output()
        return match.group(1)

    def wait_exit(self):
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop within {STOP_TIMEOUT} s:\n{self.output()}")

    def kill_all(self):
        """Safety net for a failed test: nothing may outlive it."""
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()


@pytest.fixture
def serve_factory(tmp_path):
    started = []

    def start(**kwargs):
        serve = Serve(tmp_path / "var", **kwargs)
        started.append(serve)
        return serve

    yield start
    for serve in started:
        if serve.process.poll() is None:
            serve.kill_all()


def _sign_in(url, username, password):
    session = requests.Session()
    login_page = session.get(f"{url}/login/", timeout=10)
    assert login_page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    response = session.post(
        f"{url}/login/", data={"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"},
        headers={"Referer": f"{url}/login/"}, timeout=10,
    )
    assert response.status_code == 200 and response.url == f"{url}/", response.text[:500]
    return session, response


def test_serve_runs_everything_then_stops_every_child_on_sigterm(serve_factory):
    serve = serve_factory()
    username, password = serve.wait_running().split(" / ")
    output = serve.output()
    assert username == "admin"
    assert f"URL        {serve.url}/" in output
    assert "demo       dataset 'Demo: street scenes'" in output and str(serve.var_dir / "demo") in output
    assert (serve.var_dir / "admin-password").read_text().strip() == password

    # The master and 3 gunicorn workers, Celery's main process, a pool of 2 and the embedded beat that runs the
    # periodic tasks (which it may still be forking when the web server answers on a busy machine).
    deadline = time.monotonic() + 30
    while True:
        children = _descendants(serve.process.pid)
        counts = (sum("gunicorn" in c for c in children.values()), sum("celery" in c for c in children.values()))
        if counts == (4, 4) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "valkey-server" in " ".join(children.values()), children
    assert counts == (4, 4), children

    # The embedded broker is published, and the worker answers on it.
    broker_url = (serve.var_dir / "run" / "redis.url").read_text().strip()
    assert broker_url.startswith("redis://127.0.0.1:")
    probe = Celery(broker=broker_url)
    try:
        # The worker boots beside the web server; on a busy machine it may answer some seconds after the banner.
        deadline = time.monotonic() + 90
        while not probe.control.ping(timeout=2):
            assert time.monotonic() < deadline, "the Celery worker does not answer on the embedded broker"
    finally:
        probe.pool.force_close_all()

    anonymous = requests.get(f"{serve.url}/", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login/")
    assert requests.get(f"{serve.url}/healthz", timeout=10).json() == {"status": "ok", "database": "ok", "broker": "ok"}
    stylesheet = requests.get(f"{serve.url}/static/css/app.css", timeout=10)
    assert stylesheet.status_code == 200 and "--accent" in stylesheet.text

    session, home = _sign_in(serve.url, username, password)
    assert "Demo: street scenes" in home.text
    datasets = session.get(f"{serve.url}/api/datasets/", timeout=10)
    assert datasets.status_code == 200 and "Demo: street scenes" in datasets.text

    serve.process.send_signal(signal.SIGTERM)
    assert serve.wait_exit() == 0, serve.output()
    still_running = {pid: cmd for pid, cmd in children.items() if _alive(pid)}
    assert not still_running, still_running
    assert not (serve.var_dir / "run" / "redis.url").exists()
    with socket.socket() as sock:  # the port is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", serve.port))


def test_serve_stops_everything_when_a_child_dies(serve_factory, celery_broker_url):
    # With REDIS_URL set, serve uses that broker and starts no embedded one.
    serve = serve_factory(env_extra={"REDIS_URL": celery_broker_url, "HYPERDATA_ADMIN_PASSWORD": "from the env 1"})
    # The banner names the variable, never prints its value.
    assert serve.wait_running() == "admin (password from HYPERDATA_ADMIN_PASSWORD)"
    children = _descendants(serve.process.pid)
    assert not any("valkey-server" in cmd for cmd in children.values()), children
    assert not (serve.var_dir / "run" / "redis.url").exists()
    _sign_in(serve.url, "admin", "from the env 1")

    web = next(pid for pid, cmd in children.items() if "gunicorn" in cmd and _descendants(pid))  # the master
    os.killpg(web, signal.SIGKILL)
    assert serve.wait_exit() != 0
    assert "web exited with code" in serve.output()
    still_running = {pid: cmd for pid, cmd in children.items() if _alive(pid)}
    assert not still_running, still_running


def test_second_run_reuses_the_login_and_the_demo(serve_factory):
    first = serve_factory()
    login = first.wait_running()
    first.process.send_signal(signal.SIGINT)
    assert first.wait_exit() == 0

    second = serve_factory()
    assert second.wait_running() == login
    output = second.output()
    assert "creating the demo dataset" not in output and "created the admin login" not in output
    assert "dataset 'Demo: street scenes'" in output
    second.process.send_signal(signal.SIGTERM)
    assert second.wait_exit() == 0
