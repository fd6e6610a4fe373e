"""Jobs in the pages: the top bar's Jobs menu, the Jobs page, a job's page, a version's job history (Info tab)
and the Statistics tab's "Counting…" note. Server side with Django's test client; end to end in Chromium with
a real worker running a `tests.gated` job (tests/worker_jobs.py) that the test moves forward step by step.
Screenshots in <--output>/screenshots/ (test-artifacts/screenshots/ by default)."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from playwright.sync_api import expect

from frames import services
from frames.models import Job
from frames.selectors import SYSTEM as ACTOR
from viewer.views.jobs import PAGE_SIZE

from .pages import html as page_html
from .worker_jobs import GATED

WAIT_SECONDS = 60


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob-123")


def client_of(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def version_of(user, name):
    return services.dataset_create(user=user, name=name).versions.get()


def queued_job(user, version, subject, **kwargs) -> Job:
    """A job nobody runs (no task queued): it stays queued until the test finishes, fails or cancels it."""
    return services.job_start(user=user, kind=GATED, key=f"tests:{subject}", subject=subject, version=version,
                              params={"gate": "/nonexistent"}, task=None, **kwargs)


def rows(html: str) -> list[str]:
    """The job ids of a page's job rows, top to bottom."""
    return re.findall(r'<tr id="job-([^"]+)" data-job-id=', html)


# -- server side ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_jobs_page_lists_my_jobs_newest_first_and_not_other_users(alice, bob):
    mine = version_of(alice, "alice-data")
    first = queued_job(alice, mine, "first of alice")
    failed = queued_job(alice, mine, "failing of alice")
    services.job_fail(job=failed, error="ValueError: the source answered 404")
    newest = queued_job(alice, mine, "newest of alice", total=40)
    theirs = queued_job(bob, version_of(bob, "bob-data"), "work of bob")

    response = client_of(alice).get(reverse("viewer:jobs"))
    html = page_html(response)
    assert response.status_code == 200
    assert rows(html) == [newest.pk, failed.pk, first.pk]
    assert "work of bob" not in html and theirs.pk not in html
    failed_row = html[html.index(f'id="job-{failed.pk}"'):html.index(f'id="job-{first.pk}"')]
    assert "Failed" in failed_row and "ValueError: the source answered 404" in failed_row
    assert "data-job-cancel" not in failed_row  # nothing to cancel once it ended
    newest_row = html[html.index(f'id="job-{newest.pk}"'):html.index(f'id="job-{failed.pk}"')]
    assert "Queued" in newest_row and "0 / 40" in newest_row and f'data-job-cancel="{newest.pk}"' in newest_row
    assert f'href="{reverse("viewer:version-info", args=[mine.pk])}"' in newest_row  # links to the version


@pytest.mark.django_db
def test_staff_see_every_users_jobs(alice, bob, admin_client):
    jobs = [queued_job(alice, version_of(alice, "a"), "work of alice"), queued_job(bob, version_of(bob, "b"), "work of bob")]
    html = page_html(admin_client.get(reverse("viewer:jobs")))
    assert set(rows(html)) == {job.pk for job in jobs}
    assert ">alice<" in html and ">bob<" in html  # the User column staff get


@pytest.mark.django_db
def test_the_jobs_page_filters_as_the_api_does_and_names_a_bad_parameter(alice):
    version = version_of(alice, "alice-data")
    active = queued_job(alice, version, "still queued")
    done = queued_job(alice, version, "finished")
    services.job_finish(job=done)
    client = client_of(alice)

    assert rows(page_html(client.get(reverse("viewer:jobs") + "?active=true"))) == [active.pk]
    assert rows(page_html(client.get(reverse("viewer:jobs") + "?state=done"))) == [done.pk]
    for query, field in (("?state=sleeping", "state"), ("?page=last", "page"), ("?page=9", "page")):
        response = client.get(reverse("viewer:jobs") + query)
        assert response.status_code == 400, query
        assert re.search(rf'role="alert">{field}: ', page_html(response)), query


@pytest.mark.django_db
def test_the_jobs_page_pages_and_keeps_the_filter(alice):
    version = version_of(alice, "alice-data")
    jobs = [queued_job(alice, version, f"job {i}") for i in range(PAGE_SIZE + 1)]
    client = client_of(alice)
    first = page_html(client.get(reverse("viewer:jobs") + "?active=true"))
    assert rows(first) == [job.pk for job in reversed(jobs)][:PAGE_SIZE]
    older = re.search(r'href="\?([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert older == "active=true&page=2"
    assert rows(page_html(client.get(reverse("viewer:jobs") + "?" + older))) == [jobs[0].pk]


@pytest.mark.django_db
def test_a_jobs_page_shows_it_to_its_user_and_is_404_for_others(alice, bob):
    job = queued_job(alice, version_of(alice, "alice-data"), "counting of alice")
    services.job_fail(job=job, error="Traceback: it broke")
    response = client_of(alice).get(reverse("viewer:job", args=[job.pk]))
    assert response.status_code == 200
    assert "counting of alice" in page_html(response) and "Traceback: it broke" in page_html(response)
    assert client_of(bob).get(reverse("viewer:job", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_the_info_tab_lists_the_versions_jobs(alice, bob):
    version = version_of(alice, "alice-data")
    services.member_set(user=alice, dataset=version.dataset, username="bob", role="viewer")
    ran = queued_job(alice, version, "counted by alice", total=10)
    services.job_fail(job=ran, error="RuntimeError: out of disk")
    running = queued_job(ACTOR, version, "started by the system")
    elsewhere = queued_job(alice, version_of(alice, "other-data"), "of another version")

    html = page_html(client_of(bob).get(reverse("viewer:version-info", args=[version.pk])))
    assert rows(html) == [running.pk, ran.pk]
    assert elsewhere.pk not in html
    ran_row = html[html.index(f'id="job-{ran.pk}"'):]
    assert all(text in ran_row for text in (GATED, "counted by alice", ">alice<", "Failed", "0 / 10", "RuntimeError: out of disk"))
    running_row = html[html.index(f'id="job-{running.pk}"'):html.index(f'id="job-{ran.pk}"')]
    assert "data-job-active" in running_row and ">system<" in running_row
    assert "data-job-cancel" not in running_row  # bob may look, not cancel


@pytest.mark.django_db
def test_every_page_has_the_jobs_menu(alice):
    html = page_html(client_of(alice).get(reverse("viewer:home")))
    menu = re.search(r'<div class="jobs-menu" id="jobs-menu" data-user="alice" data-csrf="([^"]+)"', html)
    assert menu and 'href="/jobs/"' in html and "js/jobs.js" in html


@pytest.mark.django_db
def test_cancel_as_the_pages_script_sends_it(alice):
    """POST /api/jobs/<id>/cancel/ with the page's CSRF token in X-CSRFToken, as static/js/jobs.js does."""
    job = queued_job(alice, version_of(alice, "alice-data"), "to cancel")
    client = client_of(alice, enforce_csrf_checks=True)
    token = re.search(r'data-csrf="([^"]+)"', page_html(client.get(reverse("viewer:jobs")))).group(1)
    url = reverse("api:job-cancel", args=[job.pk])

    assert client.post(url).status_code == 403  # without the token
    assert Job.objects.get(pk=job.pk).state == Job.QUEUED
    response = client.post(url, HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert Job.objects.get(pk=job.pk).state == Job.CANCELLED
    assert "data-job-cancel" not in page_html(client.get(reverse("viewer:jobs")))


@pytest.mark.django_db
@override_settings(HYPERDATA_STATS_SYNC_FRAMES=5, HYPERDATA_PREVIEWS_AUTO=False)
def test_the_statistics_note_names_the_counting_job(alice):
    version = version_of(alice, "large-draft")
    services.frames_add(user=alice, version=version, frames=[
        {"id": f"f{i}", "sources": [{"uri": f"s3://bucket/{i}.jpg"}], "rois": [{"labels": ["car"], "poly": [0, 0, 4, 0, 4, 4]}]}
        for i in range(8)
    ])
    response = client_of(alice).get(reverse("viewer:version-stats-labels", args=[version.pk]) + "?roi_query=labels:car")
    assert response.status_code == 202
    job = Job.objects.get(kind="stats", version=version)
    html = response.content.decode()
    assert "a worker is counting it" in html
    assert f'href="{reverse("viewer:job", args=[job.pk])}"' in html and job.subject in html
    assert f'data-job-id="{job.pk}" data-job-active' in html and 'role="progressbar"' in html


# -- in the browser, with a real worker ----------------------------------------------------------------------------


def sign_in(page, live_server, user):
    cookie = client_of(user).cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def screenshots(pytestconfig) -> Path:
    """Where the screenshots go: the screenshots folder of pytest-playwright's --output (test-artifacts)."""
    folder = Path(pytestconfig.getoption("--output")).resolve() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def gate(tmp_path):
    """The folder a `tests.gated` job waits on; `abort` at the end frees the worker if the test failed midway."""
    yield tmp_path
    (tmp_path / "abort").touch()


def release(gate: Path, step: int):
    (gate / f"go-{step}").touch()


def wait_for_file(path: Path, worker):
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared:\n{worker.log()[-3000:]}"
        time.sleep(0.05)


def start_gated(user, version, gate: Path, steps: int, subject: str) -> Job:
    return services.job_start(user=user, kind=GATED, key=f"tests:gated:{gate}", version=version, subject=subject,
                              params={"gate": str(gate), "steps": steps})


@pytest.mark.django_db(transaction=True)
def test_the_menu_follows_a_running_job_and_cancel_stops_the_worker(page, live_server, celery_worker_process, alice, bob, gate,
                                                                    screenshots):
    version = version_of(alice, "Street scenes")
    job = start_gated(alice, version, gate, 4, "re-render previews of Street scenes / Current")
    other = queued_job(bob, version_of(bob, "bob-data"), "work of bob")
    sign_in(page, live_server, alice)

    page.goto("/")
    menu = page.locator("#jobs-menu")
    expect(page.locator("#jobs-count")).to_have_text("1")  # alice's job, not bob's
    page.evaluate("window.notReloaded = true")
    page.locator("#jobs-button").click()
    item = menu.locator(f'.job-item[data-job-id="{job.pk}"]')
    expect(item.locator(".job-subject")).to_have_text(job.subject)
    expect(item.locator(".job-state")).to_have_text("Running")
    expect(item.locator(".job-bar")).to_have_class(re.compile(r"\bindeterminate\b"))  # no total before step 1
    expect(item.locator(".job-kind")).to_have_text(GATED)
    expect(item).to_contain_text("running")  # how long it has run

    release(gate, 1)
    expect(item.locator('[role="progressbar"]')).to_have_attribute("aria-valuenow", "1")
    expect(item.locator(".job-count")).to_have_text("1 / 4")
    release(gate, 2)
    expect(item.locator('[role="progressbar"]')).to_have_attribute("aria-valuenow", "2")
    expect(item.locator(".job-message")).to_have_text("step 2 of 4")
    assert page.evaluate("window.notReloaded")  # it moved without a reload
    page.screenshot(path=str(screenshots / "jobs-menu.png"))

    page.goto(reverse("viewer:version-info", args=[version.pk]))
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator(".job-state")).to_have_text("Running")
    expect(row.locator(".job-count")).to_have_text("2 / 4")
    release(gate, 3)
    expect(row.locator(".job-count")).to_have_text("3 / 4")  # the history's active row moves too
    expect(row).to_contain_text("alice")
    page.locator("#version-jobs").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "jobs-version-info.png"), full_page=True)

    page.locator("#jobs-button").click()
    menu.locator(f'[data-job-cancel="{job.pk}"]').click()
    expect(item.locator(".job-state")).to_have_text("Cancelled")  # shown as ended, not gone
    expect(row.locator(".job-state")).to_have_text("Cancelled")
    expect(row.locator("[data-job-cancel]")).to_have_count(0)
    expect(page.locator("#jobs-count")).to_be_hidden()
    assert Job.objects.get(pk=job.pk).state == Job.CANCELLED

    release(gate, 4)  # the worker wakes, reports step 4, learns it was cancelled and stops
    wait_for_file(gate / "cancelled-at-4", celery_worker_process)
    stopped = Job.objects.get(pk=job.pk)
    assert (stopped.state, stopped.done, stopped.result) == (Job.CANCELLED, 3, None)
    assert not (gate / "done-4").exists()

    page.goto(reverse("viewer:jobs"))
    expect(page.locator("#jobs tbody tr")).to_have_count(1)  # alice's job only, not bob's
    expect(page.locator(f"#job-{job.pk} .job-state")).to_have_text("Cancelled")
    expect(page.locator(f"#job-{other.pk}")).to_have_count(0)
    page.screenshot(path=str(screenshots / "jobs-page.png"), full_page=True)
    page.locator(f"#job-{job.pk} .job-subject").click()
    expect(page.locator("h1 .job-state")).to_have_text("Cancelled")
    expect(page.locator('.job-detail [data-cell="message"]')).to_have_text("step 3 of 4")
    page.screenshot(path=str(screenshots / "job-page.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_job_that_ends_stays_in_the_menu_as_done_or_failed(page, live_server, celery_worker_process, alice, tmp_path,
                                                             screenshots):
    version = version_of(alice, "Street scenes")
    done_gate, failed_gate = tmp_path / "done", tmp_path / "failed"
    done_gate.mkdir()
    failed_gate.mkdir()
    finishing = start_gated(alice, version, done_gate, 1, "count previews")
    failing = start_gated(alice, version, failed_gate, 2, "regenerate previews")
    try:
        sign_in(page, live_server, alice)
        page.goto("/")
        expect(page.locator("#jobs-count")).to_have_text("2")
        page.locator("#jobs-button").click()
        done_item = page.locator(f'.job-item[data-job-id="{finishing.pk}"]')
        failed_item = page.locator(f'.job-item[data-job-id="{failing.pk}"]')
        expect(failed_item.locator(".job-state")).to_have_text("Running")

        release(done_gate, 1)
        (failed_gate / "go-1").touch()
        (failed_gate / "fail-2").touch()
        expect(done_item.locator(".job-state")).to_have_text("Done")
        expect(done_item.locator(".job-bar")).to_have_attribute("aria-valuenow", "1")
        expect(failed_item.locator(".job-state")).to_have_text("Failed")
        expect(failed_item.locator(".job-error")).to_have_text("RuntimeError: step 2 failed, as the test asked")
        expect(page.locator("#jobs-count")).to_be_hidden()
        page.screenshot(path=str(screenshots / "jobs-menu-ended.png"))
    finally:
        (done_gate / "abort").touch()
        (failed_gate / "abort").touch()

