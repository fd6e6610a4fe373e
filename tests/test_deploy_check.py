"""`manage.py check --deploy` is clean with the production settings the README's SECURITY section lists
(issue 16), and ./run.sh's embedded default stays plain http (it is not a production configuration)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def production_env(var_dir: Path) -> dict[str, str]:
    """What an operator sets for a server behind HTTPS (README, SECURITY)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "hyperdata.example.org",
        "HYPERDATA_HTTPS": "1",  # SSL redirect, secure cookies, HSTS (1 year, subdomains, preload)
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "HYPERDATA_VAR_DIR": str(var_dir),
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    unset = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HYPERDATA_HTTPS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
             "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
             "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the test run's own (conftest), which a deployment must not set
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env={**base, "DJANGO_SETTINGS_MODULE": "hyperdata.settings", **env},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_embedded_default_is_plain_http_and_check_deploy_says_what_is_missing(tmp_path):
    result = check_deploy({"HYPERDATA_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert warning in result.stderr + result.stdout, warning


def test_each_production_setting_is_needed(tmp_path):
    """Leaving one out brings its warning back (so the clean check above is not an accident)."""
    for changed, warning in ({"HYPERDATA_HTTPS": "0"}, "security.W008"), ({"DEBUG": "1"}, "security.W018"), \
                            ({"SECRET_KEY": "django-insecure-short"}, "security.W009"):
        result = check_deploy({**production_env(tmp_path), **changed})
        assert result.returncode != 0 and warning in result.stderr + result.stdout, (changed, result.stderr)
