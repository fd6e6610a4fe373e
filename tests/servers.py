"""Test servers the cloud tests start on loopback (moto, s3rver, Azurite, the GCS emulator): a free port, waiting
for one to listen, stopping it, and npm packages installed into a cache folder on first use (never skipped: a
missing npm fails with what to install)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

NPM_CACHE = Path(os.environ.get("HYPERDATA_TEST_NPM_CACHE", Path.home() / ".cache" / "hyperdata-test-servers"))
START_SECONDS = 60


def free_port() -> int:
    """A loopback port nothing listens on (once this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Return once something listens on `port`; fail with the server's log if `process` exits first."""
    tail = lambda: log.read_text()[-2000:] if log else ""  # noqa: E731
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the test server exited with {process.returncode}:\n{tail()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"no test server listens on port {port} after {START_SECONDS} s:\n{tail()}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def npm_binary(package: str, binary: str) -> Path:
    """The path of an npm package's binary, installed into NPM_CACHE on first use."""
    prefix = NPM_CACHE / package
    path = prefix / "node_modules" / ".bin" / binary
    if path.exists():
        return path
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail(f"{package} is needed for these tests and npm/node are not installed: install Node.js and npm, "
                    f"or run `npm install --prefix {prefix} {package}`", pytrace=False)
    prefix.mkdir(parents=True, exist_ok=True)
    # Run from / : npm takes a folder named like the package in its working directory for the package itself.
    result = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), package], cwd="/",
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not path.exists():
        pytest.fail(f"`npm install --prefix {prefix} {package}` failed:\n{result.stderr[-2000:]}", pytrace=False)
    return path
