"""Hostile text and the Content-Security-Policy, in Chromium (issue 16).

1. Every main page shows markup that users typed (dataset, project, version, label, metadata, tag, context,
   dataview and job texts, a file name: tests/hostile_world.py) as text: no script of it runs
   (window.__xss stays unset) and the text is on the page literally. This runs with the policy bypassed, so
   it proves the escaping itself, not the policy.
2. Every main page keeps the policy (no 'unsafe-inline' for scripts) and works under it: the browser reports
   no violation (securitypolicyviolation events and console) and no script error, and the page shows its data.
Screenshots: /tmp/shots-16/hostile/ (or $HYPERDATA_SCREENSHOTS/hostile/).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from .hostile_world import IMG, SCRIPT, hostile_frames, make_hostile_world, pages

SHOTS = Path(os.environ.get("HYPERDATA_SCREENSHOTS") or "/tmp/shots-16") / "hostile"
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
// When the Frames tab's <head> script marks the ROI preference: while the page is still loading, before modules run.
new MutationObserver(() => { window.__tileRoisSet = window.__tileRoisSet || document.readyState; })
  .observe(document, { attributes: true, subtree: true, attributeFilter: ["data-tile-rois"] });
"""


@pytest.fixture
def world(admin_user, media_roots, settings):
    settings.HYPERDATA_PREVIEWS_AUTO = False
    return make_hostile_world(admin_user, media_roots)


def session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}


def visit(page, path: str, name: str):
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # charts and panels drawn after their fetches
    shoot(page, name)


def shoot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def shown_text(page) -> str:
    # innerText of the page plus the tooltips (title attributes) and form values it shows
    return page.evaluate("""() => [document.body.innerText,
        ...[...document.querySelectorAll('[title]')].map(e => e.title),
        ...[...document.querySelectorAll('input, textarea')].map(e => e.value)].join('\\n')""")


@pytest.mark.django_db(transaction=True)
def test_markup_typed_by_users_is_shown_as_text_on_every_page(logged_in_page, world):
    page = logged_in_page
    for name, (path, texts) in pages(world).items():
        visit(page, path, f"text-{name}")
        if name in ("frame-viewer", "annotator"):
            page.mouse.move(400, 300)  # over the picture: the hover tooltip draws ROI labels
            page.wait_for_timeout(200)
        assert page.evaluate("window.__xss") is None, f"{name}: a script typed by a user ran"
        assert page.locator('img[src="x"]').count() == 0, f"{name}: markup typed by a user became an element"
        text = shown_text(page)
        for literal in texts:
            assert literal in text, f"{name}: {literal!r} is not shown as text"


@pytest.mark.django_db(transaction=True)
def test_the_import_report_shows_a_hostile_file_name_frame_ids_and_labels_as_text(logged_in_page, world, celery_worker_process, tmp_path):
    frames = [{**frame, "id": f"{SCRIPT}{n}"} for n, frame in enumerate(hostile_frames(world.image))]
    lines = [json.dumps(frame) for frame in frames] + [json.dumps({"id": IMG, "sources": "not a list"})]
    upload = tmp_path / f"{IMG}.jsonl"
    upload.write_text("\n".join(lines) + "\n")
    page = logged_in_page
    page.goto(f"/versions/{world.draft.pk}/import/")
    page.check('input[name=format][value="clearml"]')
    page.set_input_files("#import-file", str(upload))
    page.click("#import-check")
    page.locator("#import-state").filter(has_text="Done").wait_for(timeout=60_000)
    page.locator("#import-problems tbody tr").first.wait_for()
    shoot(page, "text-import-report")
    assert page.evaluate("window.__xss") is None and page.locator('img[src="x"]').count() == 0
    problems = page.locator("#import-problems").inner_text()
    labels = page.locator("#import-labels").inner_text()
    assert IMG in labels and SCRIPT in labels, labels
    assert IMG in problems and "sources" in problems and ".jsonl" in problems, problems  # the bad frame, by its id


@pytest.mark.django_db(transaction=True)
def test_every_page_works_under_the_content_security_policy(browser, live_server, admin_user, world):
    policy = None
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800}, bypass_csp=False)
    context.add_init_script(WATCH)
    try:
        # Signed out first: the sign-in page and the admin's.
        page = context.new_page()
        problems = watch(page)
        for name, path in (("login", "/login/"), ("admin-login", "/admin/login/")):
            response = page.goto(path)
            policy = response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            assert page.locator("input[name=password]").is_visible(), name
            check_clean(page, problems, name)
        context.add_cookies([session_cookie(admin_user, live_server)])
        for name, (path, texts) in pages(world).items():
            visit(page, path, f"csp-{name}")
            for literal in texts:
                assert literal in shown_text(page), f"{name}: the page did not show its data under the policy"
            check_clean(page, problems, name)
        # The Frames tab's saved choice to hide ROIs on tiles is applied from <head> by a script file (it was an
        # inline script): static/js/tile-prefs.js.
        page.evaluate("localStorage.setItem('hd.tileRois', 'off')")
        visit(page, f"/versions/{world.published.pk}/", "csp-frames-grid-rois-off")
        assert page.evaluate("document.documentElement.dataset.tileRois") == "off"
        assert page.evaluate("window.__tileRoisSet") == "loading"  # by static/js/tile-prefs.js, not a module
        check_clean(page, problems, "frames grid with ROIs hidden")
        # The frame viewer really drew the picture and the ROIs (module scripts, the vendored OpenSeadragon).
        visit(page, f"/versions/{world.published.pk}/frame/f1", "csp-frame-viewer-drawn")
        page.wait_for_function("() => [...document.querySelectorAll('canvas')].some(c => c.width > 0)")
        check_clean(page, problems, "frame viewer")
    finally:
        context.close()
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, policy


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    return problems


def check_clean(page, problems: list[str], name: str):
    violations = page.evaluate("window.__violations || []")
    assert not violations and not problems, f"{name}: {violations + problems}"
