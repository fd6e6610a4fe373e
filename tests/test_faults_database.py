"""PostgreSQL restarted under a running web server: while it is down every request is answered 503 with
Retry-After (JSON naming the reason for the API, a short page for the browser) instead of a 500, and once it
is up again the server answers as before by itself, with no restart. A throwaway cluster of the test's own
(initdb, pg_ctl), never the machine's shared PostgreSQL; gunicorn as ./run.sh starts it."""
from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest
import requests

from .conftest import BASE_DIR
from .fault_processes import PostgresCluster, app_env, start_web

PASSWORD = "pw-restart-123"


@pytest.fixture
def cluster():
    cluster = PostgresCluster().init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def signed_in(web_url: str, username: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{web_url}/login/", timeout=30)
    answer = browser.post(f"{web_url}/login/", timeout=30, headers={"Referer": f"{web_url}/login/"}, data={
        "username": username, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
    assert answer.status_code == 200 and "sessionid" in browser.cookies, answer.text[:500]
    return browser


def test_requests_get_503_while_postgresql_restarts_and_work_again_by_themselves(cluster, celery_broker_url, tmp_path):
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE hyperdata")
    env = app_env(redis_url=celery_broker_url, queue=f"faults-{uuid.uuid4().hex[:8]}", database=cluster.url("hyperdata"))
    manage(env, "migrate", "--no-input")
    token = manage(env, "shell", "-c", (
        "from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token; "
        f"print(Token.objects.create(user=get_user_model().objects.create_user('restart', password='{PASSWORD}')).key)"
    )).strip().splitlines()[-1]
    web = start_web(env, tmp_path / "web.log")
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"
        assert api.post(f"{web.url}/api/datasets/", json={"name": "before"}, timeout=30).status_code == 201
        browser = signed_in(web.url, "restart")
        assert browser.get(f"{web.url}/", timeout=30).status_code == 200

        cluster.stop()
        for answer in (api.get(f"{web.url}/api/datasets/", timeout=30),
                       api.post(f"{web.url}/api/datasets/", json={"name": "during"}, timeout=30)):
            assert answer.status_code == 503, answer.text
            assert answer.headers["Content-Type"] == "application/json" and answer.headers["Retry-After"] == "5"
            assert answer.json()["errors"][0]["field"] == "database" and "not answering" in answer.json()["detail"]
        page = browser.get(f"{web.url}/", timeout=30)  # the session is read in a middleware, before any view
        assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
        assert "HyperData is unavailable for a moment" in page.text and len(page.text) < 1000

        cluster.start()  # nothing else: the same web server answers again
        listed = api.get(f"{web.url}/api/datasets/", timeout=30)
        assert listed.status_code == 200 and [d["name"] for d in listed.json()["results"]] == ["before"]
        assert browser.get(f"{web.url}/", timeout=30).status_code == 200
        assert api.post(f"{web.url}/api/datasets/", json={"name": "after"}, timeout=30).status_code == 201
    finally:
        web.stop()
