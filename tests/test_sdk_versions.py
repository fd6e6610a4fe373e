"""The SDK's Dataset and DatasetVersion against a live server: ClearML's version rules, add_frames that lists
what failed and why, uploads retried through a server that fails the first attempts, keyset iteration, label
statistics and mask labels."""
from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.contrib.auth.models import User

from hyperdata_client import ApiError, Dataset, DatasetVersion, FrameGroup, HyperDataError, NotFoundError, SingleFrame, login
from hyperdata_client.config import load_config
from tests.sdk_live import sdk_user  # noqa: F401 (fixture)


def frames(count: int, prefix: str = "cam", label: str = "car") -> list[SingleFrame]:
    made = []
    for index in range(count):
        frame = SingleFrame(id=f"{prefix}/{index:04d}.jpg", source=f"s3://bucket/{prefix}/{index:04d}.jpg", timestamp=index,
                            metadata={"index": index}, context_id=prefix)
        frame.add_annotation(box2d_xywh=[index, index, 10, 10], labels=[label], confidence=0.8)
        made.append(frame)
    return made


def test_dataset_and_version_lifecycle(sdk_user):
    dataset = Dataset.create(dataset_name="street scenes", description="cars", tags=["city"])
    assert Dataset.get(dataset_name="street scenes").id == dataset.id == Dataset.get(dataset_id=dataset.id).id
    current = DatasetVersion.get_current(dataset_name="street scenes")
    assert (current.name, current.status) == ("Current", "draft")
    with pytest.raises(HyperDataError, match="publish its draft first"):
        DatasetVersion.create_version(version_name="v2", dataset_name="street scenes")

    assert current.add_frames(frames(3)) == []
    child = DatasetVersion.create_snapshot(dataset_name="street scenes", publish_name="v1", child_name="v2 work")
    assert (child.name, child.status, child.frame_count) == ("v2 work", "draft", 3)
    v1 = DatasetVersion.get_version(dataset_name="street scenes", version_name="v1")
    assert v1.is_published and child.parent_id == v1.id
    refused = v1.add_frames(frames(1, prefix="late"))
    assert len(refused) == 1 and "HTTP 409" in refused[0].reason, "a published version takes no frames"

    child.publish_version()
    v3 = DatasetVersion.create_version(version_name="v3", dataset_name="street scenes")  # from the newest published
    assert v3.parent_id == child.id
    assert [(v.name, v.status) for v in DatasetVersion.get_versions(dataset_name="street scenes")] == [
        ("v1", "published"), ("v2 work", "published"), ("v3", "draft")]
    assert [v.name for v in dataset.get_versions(only_published=True)] == ["v1", "v2 work"]

    Dataset.delete(dataset_name="street scenes")
    assert not Dataset.exists(dataset_name="street scenes")
    with pytest.raises(NotFoundError):
        Dataset.get(dataset_id=dataset.id)


def test_add_frames_lists_the_refused_frames_with_their_reasons_and_writes_the_rest(sdk_user, tmp_path):
    Dataset.create(dataset_name="mixed")
    draft = DatasetVersion.get_current(dataset_name="mixed")
    good = frames(5)
    bad = SingleFrame(id="bad", source="s3://bucket/bad.jpg")
    bad.add_annotation(poly2d_xy=[1, 2, 3, 4], labels=["car"], confidence=2)
    local_file = tmp_path / "here.jpg"
    local_file.write_bytes(b"\xff\xd8")
    local = SingleFrame(id="local", source=str(local_file))

    failed = draft.add_frames([*good[:2], bad, *good[2:], local], batch_size=2)

    assert [(f.frame.id, f.reason.split(":")[0]) for f in failed] == [("bad", "rois[0].confidence")]
    assert "less than or equal to 1" in failed[0].reason
    assert sorted(f.id for f in draft.get_iterator()) == sorted([f.id for f in good] + ["local"]), "the local file was uploaded"


def test_frames_without_an_id_get_one_and_adding_them_again_does_not_make_copies(sdk_user):
    Dataset.create(dataset_name="unnamed")
    draft = DatasetVersion.get_current(dataset_name="unnamed")
    unnamed = [SingleFrame(source=f"s3://bucket/{n}.jpg") for n in range(3)]
    assert draft.add_frames(unnamed) == []
    assert draft.add_frames(unnamed) == []  # what a retry after a lost answer does
    assert sorted(f.id for f in unnamed) == sorted(f.id for f in draft.get_iterator())


def test_iterator_goes_through_every_frame_in_keyset_pages_and_takes_the_api_query(sdk_user):
    Dataset.create(dataset_name="many")
    draft = DatasetVersion.get_current(dataset_name="many")
    written = frames(230) + frames(20, prefix="other", label="bus")
    assert draft.add_frames(written, batch_size=100) == []
    seen = [f.id for f in draft.get_iterator(page_size=40)]
    assert sorted(seen) == sorted(f.id for f in written) and len(seen) == len(set(seen)) == 250
    assert [f.id for f in draft.get_iterator(page_size=7, label="bus")] == [f.id for f in written[230:]]
    stats = draft.get_stats()
    assert (stats["frame_count"], stats["annotated_frame_count"]) == (250, 250)
    assert [(e["label"], e["frame_count"], e["roi_count"]) for e in stats["labels"]] == [("car", 230, 230), ("bus", 20, 20)]


def test_update_frames_merges_and_refuses_a_stale_frame(sdk_user):
    Dataset.create(dataset_name="edits")
    draft = DatasetVersion.get_current(dataset_name="edits")
    draft.add_frames(frames(2))
    mine = draft.get_single_frame("cam/0000.jpg")
    theirs = draft.get_single_frame("cam/0000.jpg")
    theirs.meta["checked"] = True
    draft.update_frames([theirs])
    mine.add_annotation(labels=["blurry"])
    with pytest.raises(ApiError) as refused:
        draft.update_frames([mine])
    assert refused.value.status == 412, "someone saved the frame since it was read: not overwritten"
    stored = draft.get_single_frame("cam/0000.jpg")
    assert stored.meta == {"index": 0, "checked": True} and [a.labels for a in stored.get_annotations()] == [["car"]]
    assert draft.delete_frames(["cam/0001.jpg", "nope"]) == ["nope"]
    assert [f.id for f in draft.get_frames_by_ids(["cam/0001.jpg", "cam/0000.jpg"])] == ["cam/0000.jpg"]


def test_mask_labels_are_version_metadata_in_clearmls_form(sdk_user):
    Dataset.create(dataset_name="segmentation")
    draft = DatasetVersion.get_current(dataset_name="segmentation")
    draft.set_masks_labels({(210, 210, 120): ["car"], (147, 44, 209): "person"})
    assert draft.get_masks_labels() == {(210, 210, 120): ["car"], (147, 44, 209): ["person"]}
    assert draft.reload().metadata["mask_labels"] == {"_all_": [{"value": [210, 210, 120], "labels": ["car"]},
                                                                {"value": [147, 44, 209], "labels": ["person"]}]}


def test_someone_elses_dataset_does_not_exist_for_you(sdk_user, live_server, tmp_path, monkeypatch):
    mine = os.environ["HYPERDATA_CONFIG"]
    User.objects.create_user("owner", password="pw-owner-12345")
    monkeypatch.setenv("HYPERDATA_CONFIG", str(tmp_path / "owner.json"))
    login(live_server.url, "owner", "pw-owner-12345")
    theirs = Dataset.create(dataset_name="private")
    monkeypatch.setenv("HYPERDATA_CONFIG", mine)  # back to sdk-user
    assert not Dataset.exists(dataset_name="private")
    with pytest.raises(NotFoundError) as missing:
        Dataset.get(dataset_id=theirs.id)
    assert missing.value.status == 404
    with pytest.raises(NotFoundError):
        DatasetVersion.get_single_frame(frame_id="x", dataset_id=theirs.id)


class FlakyProxy(BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` requests, then passes requests on to the live server; the answers of
    the next `lost_answers` that went through are replaced by a 502 (the server wrote, the client never heard)."""

    failures = 0
    lost_answers = 0
    target = ""
    seen = 0

    def _pass_on(self):
        cls = type(self)
        cls.seen += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if cls.failures > 0:
            cls.failures -= 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(self.command, cls.target + self.path, data=body, headers=headers, timeout=60)
        if cls.lost_answers > 0:
            cls.lost_answers -= 1
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _pass_on

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server(sdk_user, live_server, monkeypatch):
    handler = type("Flaky", (FlakyProxy,), {"target": live_server.url, "failures": 0, "lost_answers": 0, "seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HYPERDATA_API_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HYPERDATA_API_TOKEN", load_config().token)
    yield handler
    server.shutdown()
    server.server_close()


def test_uploads_are_retried_through_a_server_that_fails_the_first_attempts(flaky_server):
    Dataset.create(dataset_name="flaky")
    draft = DatasetVersion.get_current(dataset_name="flaky")
    flaky_server.failures, flaky_server.seen = 2, 0
    assert draft.add_frames(frames(4), upload_retries=2) == []
    assert flaky_server.seen == 3, "two refused attempts, then the one that went through"
    assert len(list(draft.get_iterator())) == 4

    flaky_server.failures = 3
    failed = draft.add_frames(frames(2, prefix="late"), upload_retries=2)
    assert [(f.frame.id, f.reason) for f in failed] == [("late/0000.jpg", "HTTP 503: Service Unavailable"),
                                                        ("late/0001.jpg", "HTTP 503: Service Unavailable")]
    assert len(list(draft.get_iterator())) == 4, "the frames that failed were not written"


def test_a_retry_after_a_lost_answer_does_not_add_the_frames_twice(flaky_server):
    Dataset.create(dataset_name="lost answers")
    draft = DatasetVersion.get_current(dataset_name="lost answers")
    unnamed = [SingleFrame(source=f"s3://bucket/{n}.jpg", metadata={"n": n}) for n in range(3)]
    flaky_server.lost_answers, flaky_server.seen = 1, 0
    assert draft.add_frames(unnamed, upload_retries=1) == []
    assert flaky_server.seen == 2, "the answer of the first attempt was lost, the second came back"
    assert sorted(f.meta["n"] for f in draft.get_iterator()) == [0, 1, 2]


def test_a_frame_group_is_read_changed_and_written_back_whole(sdk_user):
    Dataset.create(dataset_name="rig")
    draft = DatasetVersion.get_current(dataset_name="rig")
    group = FrameGroup(id="rig/0001", metadata={"velocity": 60})
    group["front"] = SingleFrame(source="s3://rig/front/0001.jpg", width=800, height=600, metadata={"fov": 129})
    group["rear"] = SingleFrame(source="s3://rig/rear/0001.jpg", width=800, height=600)
    group["front"].add_annotation(poly2d_xy=[1, 1, 9, 1, 9, 9], labels=["car"])
    assert draft.add_frames([group]) == []

    stored = draft.get_single_frame("rig/0001")
    stored["rear"].add_annotation(box2d_xywh=[5, 5, 20, 10], labels=["truck"], id="t1")
    stored.add_annotation(labels=["rain"])
    stored.meta["checked"] = True
    draft.update_frames([stored])

    again = draft.get_single_frame("rig/0001")
    assert isinstance(again, FrameGroup) and list(again) == ["front", "rear"]
    assert [a.labels for a in again["front"].get_annotations()] == [["car"]] and again["front"].meta == {"fov": 129}
    assert [(a.id, a.shape) for a in again["rear"].get_annotations()] == [("t1", {"type": "box", "xywh": [5, 5, 20, 10]})]
    assert [a.labels for a in again.get_annotations()] == [["rain"]] and again.meta == {"velocity": 60, "checked": True}
