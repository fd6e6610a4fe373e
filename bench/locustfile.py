"""What bench/load.py's users do (locust): browse, filter, open frames, read statistics and write frames in bulk.

bench/load.py seeds the database, starts `manage.py serve` and runs this file headless; it passes what the users
need in LOAD_CONFIG (JSON: the dataset, the published root version, its draft child, the frame count, the
sessions). Each user has a login of its own (an annotator of the dataset), signed in through /login/ by
bench/load.py before the run, and works through that session as a browser does: API writes carry the CSRF
token from the cookie.

Request names are the kinds bench/load.py reports: `page: ...` is HTML, `api: ...` the REST API, `json: ...`
what the pages fetch after they are shown.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

from locust import HttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clearml import clearml_frame  # noqa: E402

CONFIG = json.loads(os.environ.get("LOAD_CONFIG", "{}"))
PAGE = 100  # frames per grid page and API page
DEEP_PAGE = 5000  # frames 499,901-500,000 at a million frames (the last page when there are fewer)
WRITE_BATCH = 100
FRAME_QUERY = "meta.weather:fog AND meta.score:[10 TO 60]"
ROI_FILTER = json.dumps([{"rois": [{"roi_query": "labels:car AND confidence:[0.5 TO 1]"}]}])
SESSIONS = itertools.cycle(CONFIG.get("sessions", []))


def frame_path(i: int) -> str:
    return quote(f"img/{i:07d}.jpg", safe="/")


class Annotator(HttpUser):
    """A dataset member who browses, filters, opens frames, looks at statistics and now and then saves frames."""

    wait_time = between(1, 2)  # a person's pause between clicks

    def on_start(self):
        self.root, self.draft = CONFIG["root"], CONFIG["draft"]
        self.frames = CONFIG["frames"]
        self.last_page = max(1, -(-self.frames // PAGE))
        self.rnd = random.Random()
        # Signed in through /login/ by bench/load.py before the run: the session a browser keeps.
        for name, value in next(SESSIONS).items():
            self.client.cookies.set(name, value)

    def _csrf_token(self) -> str:
        """The CSRF cookie's value (pages send it again, so the jar may hold it twice: the same value)."""
        return next(cookie.value for cookie in self.client.cookies if cookie.name == "csrftoken")

    def _get(self, url: str, name: str, expect: tuple = (200,)):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code}: {response.error or response.text[:200]}")
            elif "/login/" in response.url:
                response.failure("signed out")
            return response

    # -- browsing ---------------------------------------------------------------------------------------------
    @task(3)
    def datasets_list(self):
        self._get("/", "page: datasets list")
        self._get("/api/datasets/", "api: datasets list")

    @task(2)
    def dataset_page(self):
        self._get(f"/datasets/{CONFIG['dataset']}/", "page: dataset (version tree)")

    @task(4)
    def version_page(self):
        self._get(f"/versions/{self.root}/", "page: version, Frames tab p.1")

    @task(4)
    def next_pages(self):
        """Page 1 then the next three through the cursor, as the grid's Next button does."""
        response = self._get(f"/api/versions/{self.root}/frames/?limit={PAGE}", "api: frames p.1")
        cursor = response.json().get("cursor") if response.ok else None
        for _ in range(3):
            if not cursor:
                return
            self._get(f"/versions/{self.root}/?{urlencode({'cursor': cursor})}", "page: frames grid, next page (cursor)")
            response = self._get(f"/api/versions/{self.root}/frames/?{urlencode({'cursor': cursor, 'limit': PAGE})}",
                                 "api: frames next page (cursor)")
            cursor = response.json().get("cursor") if response.ok else None

    @task(4)
    def jump(self):
        """Go to page N (the page box, the slider) and the deep page, then the API at an offset."""
        page = self.rnd.randint(2, self.last_page)
        self._get(f"/versions/{self.root}/?page={page}", "page: frames grid, jump to page N")
        self._get(f"/versions/{self.root}/?page={min(DEEP_PAGE, self.last_page)}", "page: frames grid, deep page")
        self._get(f"/api/versions/{self.root}/frames/?offset={self.rnd.randrange(self.frames)}&limit={PAGE}", "api: frames at offset N")

    # -- filtering --------------------------------------------------------------------------------------------
    @task(3)
    def frame_query(self):
        query = urlencode({"frame_query": FRAME_QUERY})
        self._get(f"/versions/{self.root}/?{query}", "page: frames grid, Lucene frame query")
        self._get(f"/versions/{self.root}/frames/count/?{query}", "json: count, Lucene frame query")
        self._get(f"/api/versions/{self.root}/frames/?{query}&count=true", "api: frames, Lucene frame query + count")
        self._get(f"/versions/{self.root}/?{query}&page={self.rnd.randint(2, 50)}", "page: frames grid, Lucene frame query, jump")

    @task(3)
    def roi_query(self):
        query = urlencode({"filters": ROI_FILTER})
        self._get(f"/versions/{self.root}/?{query}", "page: frames grid, Lucene ROI query")
        self._get(f"/versions/{self.root}/frames/count/?{query}", "json: count, Lucene ROI query")
        self._get(f"/api/versions/{self.root}/frames/?{query}", "api: frames, Lucene ROI query")

    # -- one frame --------------------------------------------------------------------------------------------
    @task(6)
    def frame(self):
        path = frame_path(self.rnd.randrange(self.frames))
        self._get(f"/versions/{self.root}/frame/{path}", "page: frame")
        self._get(f"/api/versions/{self.root}/frames/{path}/", "api: frame JSON")

    # -- statistics -------------------------------------------------------------------------------------------
    @task(2)
    def statistics(self):
        self._get(f"/versions/{self.root}/stats/", "page: statistics")
        # 202 is the panel's answer while a worker counts (the page polls it): a right answer, not an error.
        self._get(f"/versions/{self.root}/stats/meta/?key=weather", "json: statistics, meta.weather", expect=(200, 202))
        self._get(f"/api/versions/{self.root}/stats/", "api: statistics")

    # -- writes -----------------------------------------------------------------------------------------------
    @task(2)
    def bulk_write(self):
        """Save 100 frames into the draft child (each replaces the frame it inherited), as the SDK does."""
        start = self.rnd.randrange(max(1, self.frames - WRITE_BATCH))
        rnd = random.Random(start)
        frames = [clearml_frame(i, rnd) for i in range(start, min(self.frames, start + WRITE_BATCH))]
        for frame in frames:
            frame["meta"]["reviewed"] = True
        with self.client.post(f"/api/versions/{self.draft}/frames/", json={"frames": frames}, name="api: bulk write 100 frames (draft)",
                              headers={"X-CSRFToken": self._csrf_token(), "Referer": self.host + "/"},
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.error or response.text[:200]}")
            elif response.json().get("added", 0) + response.json().get("replaced", 0) != len(frames):
                response.failure(f"wrote {response.text[:200]}")
        self._get(f"/versions/{self.draft}/", "page: version, Frames tab p.1 (draft)")
