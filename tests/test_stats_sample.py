"""The Statistics tab follows Sample by Property (issue 13, items 5 and 6): with sample_by / sample_n / sample_seed
(from the Frames tab's URL, carried by the tab link) the label counts, the ROI confidence histogram and a metadata
key's distribution describe the frames the sample picks, which are the frames the API lists for the same
parameters; the answers are kept by the whole parameter set (a draft's until it changes), and a large version's
sampled statistics are counted by a job with the same parameters. Screenshots in /tmp/shots-13/statistics/."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.http import QueryDict
from django.urls import reverse
from playwright.sync_api import expect

from frames import services
from frames.models import Job
from frames.services import stats as stat_services
from frames.selectors import SYSTEM as ACTOR
from frames.selectors import parse_frame_query

from .clients import api_client

SHOTS = Path("/tmp/shots-13/statistics")
SAMPLE = {"sample_by": "meta.weather", "sample_n": "5", "sample_seed": "4"}
LABELS = ["car", "person", "truck", "car", "bike", "car", "person"]


def make_frames(n=90):
    frames = []
    for i in range(n):
        rois = [{"labels": [LABELS[i % 7]], "poly": [0, 0, 9, 0, 9, 9], "confidence": round((i % 10) / 10 + 0.05, 2)}]
        if i % 4 == 0:
            rois.append({"labels": ["night" if i % 8 else "day"]})
        frames.append({"id": f"f{i:03d}", "sources": [{"uri": f"s3://b/{i}.jpg"}], "rois": rois,
                       "meta": {"speed": i % 30, "weather": ["sunny", "rain", "fog"][i % 3]}})
    return frames


def make_version(name="stats-sample"):
    version = services.dataset_create(user=ACTOR, name=name).versions.get()
    services.frames_add(user=ACTOR, version=version, frames=make_frames())
    return version


def api_frames(api, version, params) -> list[dict]:
    body = api.get(f"/api/versions/{version.pk}/frames/?{urlencode({**params, 'limit': 1000})}").json()
    assert body.get("next") in (None, ""), "one page holds them all"
    return body["results"]


def counts_of(frames) -> dict:
    """The label statistics counted by hand from frames as the API returns them."""
    rois, frame_labels, with_label = Counter(), Counter(), Counter()
    for frame in frames:
        for roi in frame["rois"]:
            (rois if roi.get("poly") else frame_labels).update(set(roi["labels"]))
        with_label.update({label for roi in frame["rois"] for label in roi["labels"]})
    return {"frame_count": len(frames), "annotated_frame_count": sum(1 for f in frames if f["rois"]),
            "labels": {label: (rois[label], frame_labels[label], n) for label, n in with_label.items()}}


def as_counts(stats: dict) -> dict:
    return {"frame_count": stats["frame_count"], "annotated_frame_count": stats["annotated_frame_count"],
            "labels": {e["label"]: (e["roi_count"], e["frame_label_count"], e["frame_count"]) for e in stats["labels"]}}


@pytest.mark.django_db
@pytest.mark.parametrize("params", [SAMPLE, {**SAMPLE, "label": "car"}, {"sample_by": "label", "sample_n": "3", "sample_seed": "1"}])
def test_sampled_label_counts_are_those_of_the_frames_the_api_lists(admin_user, params):
    version = make_version()
    api = api_client(admin_user)
    frames = api_frames(api, version, params)
    assert 0 < len(frames) < 90
    expected = counts_of(frames)
    # The REST API's statistics, the Statistics tab's panel and the service agree with the hand count.
    assert as_counts(api.get(f"/api/versions/{version.pk}/stats/?{urlencode(params)}").json()) == expected
    api.force_login(admin_user)
    panel = api.get(reverse("viewer:version-stats-labels", args=[version.pk]) + "?" + urlencode(params)).content.decode()
    assert f'id="stat-frames">{len(frames)}<' in panel
    for label, (roi_count, _, frame_count) in expected["labels"].items():
        if roi_count:
            row = re.search(rf'<tr data-label="{label}">.*?data-col="annotations">(\d+)<.*?data-col="frames">(\d+)<', panel, re.S)
            assert row and (int(row[1]), int(row[2])) == (roi_count, frame_count), label
    # A metadata key's values and the ROI confidences of the same frames, as the tab's panels and the service count them.
    query = parse_frame_query(QueryDict(urlencode(params)))
    weather = services.meta_distribution(user=admin_user, version=version, key="weather", filters=query.filters, sample=query.sample)
    assert {v["value"]: v["count"] for v in weather["values"]} == Counter(f["meta"]["weather"] for f in frames)
    panel = api.get(reverse("viewer:version-stats-meta", args=[version.pk]) + "?" + urlencode({**params, "key": "weather"}))
    assert panel.status_code == 200 and f"{len(frames)}" in panel.content.decode()
    confidence = services.meta_distribution(user=admin_user, version=version, key="rois.confidence", bins=10,
                                            filters=query.filters, sample=query.sample)
    rois = [label for f in frames for r in f["rois"] if "confidence" in r for label in r["labels"]]
    assert confidence["with_key"] == len(rois) == sum(b["count"] for b in confidence["buckets"])


@pytest.mark.django_db
def test_sampled_answers_are_kept_by_their_parameters_and_follow_a_draft(admin_user, settings):
    version = make_version("stats-sample-cache")
    api = api_client(admin_user)
    stats = lambda params: api.get(f"/api/versions/{version.pk}/stats/?{urlencode(params)}").json()  # noqa: E731
    first = stats(SAMPLE)
    assert as_counts(first) == counts_of(api_frames(api, version, SAMPLE))
    other_seed = {**SAMPLE, "sample_seed": "5"}
    assert as_counts(stats(other_seed)) == counts_of(api_frames(api, version, other_seed)) != as_counts(first)
    assert as_counts(stats({**SAMPLE, "sample_n": "2"}))["frame_count"] == 6  # 2 per weather: never the N=5 answer
    # A write moves the draft on: the same parameters are counted again (a frame of the sample relabelled).
    picked = api_frames(api, version, SAMPLE)[0]
    services.frames_update(user=ACTOR, version=version, frames=[{"id": picked["id"], "rois": [{"labels": ["unicorn"], "poly": [0, 0, 1, 0, 1, 1]}]}])
    assert "unicorn" in as_counts(stats(SAMPLE))["labels"]
    assert as_counts(stats(SAMPLE)) == counts_of(api_frames(api, version, SAMPLE))
    # Published: the answer is kept for good under the whole parameter set.
    published = services.version_publish(user=ACTOR, version=version, name="v1")
    assert as_counts(api.get(f"/api/versions/{published.pk}/stats/?{urlencode(SAMPLE)}").json()) == as_counts(stats(SAMPLE))


@pytest.mark.django_db
def test_a_large_versions_sampled_statistics_are_counted_by_a_job_with_the_sample(admin_user, settings):
    version = make_version("stats-sample-job")
    settings.HYPERDATA_STATS_SYNC_FRAMES = 10  # "large": counted by a worker's job
    api = api_client(admin_user)
    response = api.get(f"/api/versions/{version.pk}/stats/?{urlencode({**SAMPLE, 'label': 'car'})}")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.params["sample"] == SAMPLE and job.params["question"] == "labels"
    result = stat_services.stats_job_run(user=admin_user, job=job)
    assert as_counts(result) == counts_of(api_frames(api, version, {**SAMPLE, "label": "car"}))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["version-stats", "version-stats-labels"])
def test_a_bad_sample_is_refused_naming_the_field(admin_client, path):
    version = make_version("stats-sample-bad")
    response = admin_client.get(reverse(f"viewer:{path}", args=[version.pk]) + "?sample_by=meta.weather&sample_n=0")
    assert response.status_code == 400
    assert 'data-error-for="sample_n"' in response.content.decode()


# ---------------------------------------------------------------------------------------------- in Chromium


@pytest.mark.django_db(transaction=True)
def test_browser_statistics_tab_describes_the_frames_tabs_sample(logged_in_page, live_server, admin_user):
    page, api = logged_in_page, api_client(admin_user)
    page.set_default_timeout(30_000)
    page.set_viewport_size({"width": 1440, "height": 900})
    version = make_version("stats-sample-ui")
    page.goto(f"/versions/{version.pk}/?label=car")
    page.click("#fb-sample-toggle")
    page.fill("#fb-sample-by", "meta.weather")
    page.fill("#fb-sample-n", "5")
    page.fill("#fb-sample-seed", "4")
    page.click("#fb-sample-apply")
    page.wait_for_url(re.compile(r"sample_by=meta.weather"))
    page.click('nav.tabs a:has-text("Statistics")')
    page.wait_for_url(re.compile(r"/stats/\?"))
    params = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert params == {"label": "car", **SAMPLE}
    expected = counts_of(api_frames(api, version, params))
    assert expected["frame_count"] == 15  # 5 car frames per weather
    expect(page.locator("#stat-frames")).to_have_text(str(expected["frame_count"]))
    expect(page.locator("#stats-sample")).to_contain_text("5 per meta.weather · seed 4")
    expect(page.locator("#stats-filter")).to_contain_text("In the sample of the current filter")
    expect(page.locator("#stat-annotated")).to_have_text(str(expected["annotated_frame_count"]))
    for label, (roi_count, frame_label_count, frame_count) in expected["labels"].items():
        if roi_count:
            row = page.locator(f'#roi-labels tr[data-label="{label}"]')
            expect(row.locator('[data-col="annotations"]')).to_have_text(str(roi_count))
            expect(row.locator('[data-col="frames"]')).to_have_text(str(frame_count))
    page.wait_for_selector('figure[data-chart="chart-confidence"][data-drawn="true"]')
    page.wait_for_selector('figure[data-chart="chart-meta"][data-drawn="true"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "stats-sample.png"), full_page=True)
    # Back on the Frames tab the sample is still there.
    page.click('nav.tabs a:has-text("Frames")')
    expect(page.locator("#fb-sample-chip")).to_contain_text("5 per meta.weather · seed 4")
