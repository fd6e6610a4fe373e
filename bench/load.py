"""Load: 50 users for two minutes against the stack as ./run.sh starts it, on PostgreSQL with a million frames.

    python bench/load.py                        # BENCH_FRAMES=1000000, 50 users, 120 s
    BENCH_FRAMES=100000 python bench/load.py    # quicker
    BENCH_USERS=50 BENCH_SECONDS=120 BENCH_KEEP=1 (keep the database; the next run with the same BENCH_FRAMES
    reuses it instead of importing again) BENCH_REDIS_URL=redis://127.0.0.1:6379/5 BENCH_DB=h_load

1. Seeds its own database (h_load_<frames>): generated ClearML JSON lines (bench/_clearml.py) imported into a
   dataset by the import service (previews off), the version published (statistics and page positions stored),
   a draft child for the writes, one annotator login per user and a few more datasets for the list.
2. Starts `manage.py serve --no-demo` (gunicorn web workers and a Celery worker, as ./run.sh does, with the
   default settings) against that database and the machine's Redis (BENCH_REDIS_URL, flushed first).
3. Signs every user in through /login/ (before the timed run: people sign in once a day, and 50 password
   hashes at once would be the first 40 s of it), then runs locust headless on loopback (bench/locustfile.py:
   browsing, Lucene frame and ROI filters, the frame page and its JSON, statistics, bulk writes into the
   draft; 1-2 s between a user's clicks) while sampling the RSS of every process of the stack once a second
   with psutil.
4. Prints per request kind the count, failures, p50/p95/p99 (ms; locust's percentiles, two significant
   digits), the error rate, per process the RSS at the start, its peak and at the end, the load average before
   and after, and what the stack logged as errors. Stops the stack and drops the database (unless BENCH_KEEP).
"""
from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import redis
import requests
from _clearml import clearml_lines
from _django import ROOT, run_then_drop, setup

FRAMES = int(os.environ.get("BENCH_FRAMES", "1000000"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "120"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
DB = f"{os.environ.get('BENCH_DB', 'h_load')}_{FRAMES}"
BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/hyperdata-bench-imports"))  # bench/imports.py's files, shared
DATASET = "load-bench"
PASSWORD = "load-bench-password-1"
RSS_LIMIT_MB = 300
MB = 1024 * 1024
DB_URL = setup(DB)
# setup() switched previews off and statistics in place for seeding in this process; the stack runs with
# the defaults, as ./run.sh does.
SEED_ONLY_ENV = ("HYPERDATA_PREVIEWS_AUTO", "HYPERDATA_STATS_SYNC_FRAMES")

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402

from frames import services  # noqa: E402
from frames.importers.base import ImportSource  # noqa: E402
from frames.models import Dataset, DatasetVersion  # noqa: E402


# -- seeding ------------------------------------------------------------------------------------------------------


def seeded() -> dict:
    """The dataset, its published root and a fresh draft child, the logins: made now or kept from a BENCH_KEEP run."""
    owner = User.objects.filter(username="load-owner").first() or User.objects.create_superuser("load-owner", password=PASSWORD)
    dataset = Dataset.objects.filter(name=DATASET).first()
    root = dataset and DatasetVersion.objects.filter(dataset=dataset, status=DatasetVersion.PUBLISHED, frame_count=FRAMES).first()
    if root is None:
        if dataset:
            services.dataset_delete(user=owner, dataset=dataset)
        root = import_root(owner)
        dataset = root.dataset
    else:
        print(f"reusing {FRAMES:,} frames in {DB}", flush=True)
    for draft in DatasetVersion.objects.filter(dataset=dataset, status=DatasetVersion.DRAFT):
        services.version_delete(user=owner, version=draft)  # the last run's writes
    draft = services.version_create(user=owner, parent=root, name="writes")
    logins = []
    for k in range(USERS):
        name = f"load-{k:02d}"
        if not User.objects.filter(username=name).exists():
            User.objects.create_user(name, password=PASSWORD)
        services.member_set(user=owner, dataset=dataset, username=name, role="annotator")
        logins.append([name, PASSWORD])
    for k in range(20):  # the list shows more than one dataset, most of them not the user's
        if not Dataset.objects.filter(name=f"load-other-{k:02d}").exists():
            services.dataset_create(user=owner, name=f"load-other-{k:02d}", tags=["other", f"t{k % 4}"])
    return {"dataset": dataset.pk, "root": root.pk, "draft": draft.pk, "frames": FRAMES, "logins": logins}


def import_root(owner) -> DatasetVersion:
    path = clearml_lines(BENCH_DIR, FRAMES)
    version = services.dataset_create(user=owner, name=DATASET).versions.get()
    started = time.perf_counter()
    result = services.import_frames(user=owner, version=version, format="clearml", source=ImportSource(path=path))
    print(f"imported {result.frames:,} frames in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    version = services.version_publish(user=owner, version=version, name="v1")
    print(f"published (statistics and page positions stored) in {time.perf_counter() - started:.0f} s", flush=True)
    return version


# -- the stack -------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(var_dir: str, port: int) -> subprocess.Popen:
    redis.Redis.from_url(REDIS_URL).flushdb()  # this benchmark's own Redis database: no cache or queue left over
    env = {k: v for k, v in os.environ.items() if k not in SEED_ONLY_ENV}
    env.update(DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL, HYPERDATA_VAR_DIR=var_dir, HYPERDATA_ADMIN_PASSWORD=PASSWORD)
    log = open(Path(var_dir) / "serve.log", "w")
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-demo", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise SystemExit(f"manage.py serve exited with {serve.returncode}:\n{Path(log.name).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200 and len(stack_processes(serve.pid)) > 3:
                    return serve
        except OSError:
            pass
        time.sleep(0.5)
    stop_stack(serve)
    raise SystemExit(f"the stack did not answer within 300 s:\n{Path(log.name).read_text()[-3000:]}")


def stop_stack(serve: subprocess.Popen) -> None:
    serve.send_signal(signal.SIGTERM)
    try:
        serve.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait()


def role(process: psutil.Process, serve_pid: int) -> str:
    command = " ".join(process.cmdline())
    parent = process.ppid()
    if "gunicorn" in command:
        return "gunicorn master" if parent == serve_pid else "gunicorn worker"
    if "celery" in command:
        return "celery main" if parent == serve_pid else "celery child (pool or beat)"
    return process.name()


def stack_processes(serve_pid: int) -> dict[int, str]:
    try:
        serve = psutil.Process(serve_pid)
        return {serve_pid: "manage.py serve", **{p.pid: role(p, serve_pid) for p in serve.children(recursive=True)}}
    except psutil.Error:
        return {}


class RssSampler(threading.Thread):
    """Every process of the stack (new ones too: a recycled gunicorn worker) once a second: peak and last RSS."""

    def __init__(self, serve_pid: int):
        super().__init__(daemon=True)
        self.serve_pid = serve_pid
        self.seen: dict[int, dict] = {}
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.sample()
            self.stopping.wait(1)

    def sample(self):
        for pid, name in stack_processes(self.serve_pid).items():
            try:
                rss = psutil.Process(pid).memory_info().rss
            except psutil.Error:
                continue
            entry = self.seen.setdefault(pid, {"role": name, "start": rss, "peak": 0, "end": 0, "alive": True})
            entry["peak"], entry["end"] = max(entry["peak"], rss), rss
        alive = stack_processes(self.serve_pid)
        for pid, entry in self.seen.items():
            entry["alive"] = pid in alive


# -- the run ---------------------------------------------------------------------------------------------------------


def sign_in(base: str, username: str) -> dict:
    """One user's session cookies from the login form (a browser's sign-in)."""
    with requests.Session() as session:
        session.get(f"{base}/login/", timeout=300).raise_for_status()
        response = session.post(f"{base}/login/", timeout=300, headers={"Referer": f"{base}/login/"}, data={
            "username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        response.raise_for_status()
        if "sessionid" not in session.cookies:
            raise SystemExit(f"{username} could not sign in: {response.status_code} {response.url}")
        return {"sessionid": session.cookies["sessionid"], "csrftoken": session.cookies["csrftoken"]}


def sign_in_all(config: dict, port: int) -> None:
    """Every user signs in before the timed run: 50 password hashes at once would be the first 30 s of it,
    and people sign in once a day, not once per two minutes."""
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        config["sessions"] = list(pool.map(lambda login: sign_in(f"http://127.0.0.1:{port}", login[0]), config.pop("logins")))
    print(f"{len(config['sessions'])} users signed in through /login/ in {time.perf_counter() - started:.0f} s", flush=True)


def run_locust(config: dict, port: int, out_dir: str) -> Path:
    prefix = Path(out_dir) / "locust"
    env = {**os.environ, "LOAD_CONFIG": json.dumps(config)}
    subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                    "--users", str(USERS), "--spawn-rate", "10", "--run-time", f"{SECONDS}s", "--stop-timeout", "120",
                    "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
                   env=env, check=False, cwd=ROOT, stdout=open(Path(out_dir) / "locust.log", "w"), stderr=subprocess.STDOUT)
    return prefix


def report(prefix: Path, sampler: RssSampler, load_before: tuple, load_after: tuple) -> None:
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    print(f"\n{USERS} users for {SECONDS} s over {FRAMES:,} frames; load average (1/5/15 min) before "
          f"{'/'.join(f'{x:.1f}' for x in load_before)}, after {'/'.join(f'{x:.1f}' for x in load_after)} (2 cores, shared)\n")
    print("| request kind | requests | failures | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|")
    total = None
    for row in rows:
        if row["Name"] == "Aggregated":
            total = row
            continue
        print(f"| {row['Name']} | {int(row['Request Count']):,} | {row['Failure Count']} | {row['50%']} | {row['95%']} | {row['99%']} |")
    if total:
        requests, failures = int(total["Request Count"]), int(total["Failure Count"])
        print(f"| **all** | {requests:,} | {failures} | {total['50%']} | {total['95%']} | {total['99%']} |")
        print(f"\nerror rate {failures / max(1, requests):.4%} ({failures} of {requests:,}); {float(total['Requests/s']):.1f} requests/s")
    with open(f"{prefix}_failures.csv") as f:
        for failure in list(csv.DictReader(f))[:10]:
            print(f"  failed: {failure['Name']} x{failure['Occurrences']}: {failure['Error'][:300]}")
    with open(f"{prefix}_exceptions.csv") as f:
        for exception in csv.DictReader(f):  # the users' own code failed: the run does not measure what it says
            print(f"  USER CODE FAILED x{exception['Count']}: {exception['Message'][:200]}\n{exception['Traceback'][-600:]}")
    print("\n| process | pid | RSS MB at start | peak | end |\n|---|---|---|---|---|")
    over = []
    for pid, entry in sorted(sampler.seen.items(), key=lambda item: (item[1]["role"], item[0])):
        end = f"{entry['end'] / MB:.0f}" if entry["alive"] else f"{entry['end'] / MB:.0f} (exited)"
        print(f"| {entry['role']} | {pid} | {entry['start'] / MB:.0f} | {entry['peak'] / MB:.0f} | {end} |")
        if entry["role"] == "gunicorn worker" and entry["peak"] / MB >= RSS_LIMIT_MB:
            over.append(pid)
    total_end = sum(e["end"] for e in sampler.seen.values() if e["alive"]) / MB
    print(f"| **all processes, at the end** | | | | {total_end:.0f} |")
    if over:
        print(f"web workers over {RSS_LIMIT_MB} MB: {over}")


def server_errors(log: Path) -> None:
    """What the stack logged as errors, with their tracebacks; BENCH_SERVE_LOG=1: the log's end as well."""
    lines = log.read_text(errors="replace").splitlines()
    if os.environ.get("BENCH_SERVE_LOG"):
        print("\n".join(lines[-100:]))
    shown, count = [], 0
    for number, line in enumerate(lines):
        if any(word in line for word in ("[ERROR]", "ERROR/", "CRITICAL", "WORKER TIMEOUT")):
            count += 1
            if count <= 5:  # each error once, with the traceback that follows it
                shown += [line] + [following for following in lines[number + 1:number + 40] if not following.startswith("[")][:39]
    print(f"\nthe stack logged {count} error(s)" + "".join(f"\n  {line[:300]}" for line in shown))


def main() -> None:
    load_seed = os.getloadavg()
    config = seeded()
    connection.close()
    print(f"seeded (load average before seeding {load_seed[0]:.1f}); starting the stack", flush=True)
    with tempfile.TemporaryDirectory(prefix="hyperdata-load-") as var_dir:
        port = free_port()
        serve = start_stack(var_dir, port)
        sampler = RssSampler(serve.pid)
        sampler.sample()
        print(f"stack up on port {port} (serve pid {serve.pid}); {USERS} users for {SECONDS} s", flush=True)
        try:
            sign_in_all(config, port)
            sampler.start()
            load_before = os.getloadavg()
            prefix = run_locust(config, port, var_dir)
            load_after = os.getloadavg()
            sampler.stopping.set()
            sampler.join()
            sampler.sample()
            report(prefix, sampler, load_before, load_after)
        finally:
            stop_stack(serve)
            server_errors(Path(var_dir, "serve.log"))


if __name__ == "__main__":
    run_then_drop(main, DB)
