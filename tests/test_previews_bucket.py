"""Previews written to a bucket (HYPERDATA_PREVIEWS_STORAGE) instead of local disk, so several machines share
them: the settings parsing, and the service the workers run rendering a frame's previews into a real S3 server
on loopback (moto in server mode), then the web process serving them back through the signed preview link."""
from __future__ import annotations

import io

import boto3
import pytest
from django.test import override_settings
from moto.server import ThreadedMotoServer
from PIL import Image

from frames import selectors, services
from frames.models import MediaPreview
from frames.selectors import SYSTEM
from hyperdata.previews_storage import FILESYSTEM, PreviewsStorageError, previews_storage

pytestmark = pytest.mark.django_db(transaction=True)
STATIC = {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}


def test_the_setting_names_aws_or_an_s3_compatible_server():
    assert previews_storage(None) == FILESYSTEM
    aws = previews_storage("s3://my-previews/hd", region="eu-west-1")["OPTIONS"]
    assert aws == {"bucket_name": "my-previews", "location": "hd", "region_name": "eu-west-1", "use_ssl": True,
                   "file_overwrite": True, "querystring_auth": False}
    minio = previews_storage("s3://minio.lan:9000/previews", access_key="k", secret_key="s", tls=False)["OPTIONS"]
    assert minio["endpoint_url"] == "http://minio.lan:9000" and minio["bucket_name"] == "previews" and minio["location"] == ""
    assert minio["addressing_style"] == "path"
    for bad in ("gs://b/p", "s3://minio.lan:9000/", "s3:///prefix"):
        with pytest.raises(PreviewsStorageError):
            previews_storage(bad)


@pytest.fixture
def bucket():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
    client.create_bucket(Bucket="shared-previews")
    yield f"s3://{host}:{port}/shared-previews/hyperdata", client
    server.stop()


def test_previews_land_in_the_bucket_and_are_served_from_it(bucket, media_roots, admin_client, settings):
    uri, client = bucket
    settings.HYPERDATA_PREVIEWS_AUTO = False  # rendered below by the workers' service, in this process
    image = media_roots / "bucket-source.png"
    Image.new("RGB", (640, 400), (200, 40, 40)).save(image)
    storage = previews_storage(uri, access_key="test", secret_key="test", region="us-east-1", tls=False)
    with override_settings(STORAGES={"default": storage, "staticfiles": STATIC}):
        version = services.dataset_create(user=SYSTEM, name="bucketed").versions.get()
        services.frames_add(user=SYSTEM, version=version, frames=[{"id": "f", "sources": [{"uri": image.as_uri()}]}])
        row = MediaPreview.objects.get()  # asked for by the write; a worker would render it
        assert services.render_previews(uri=row.uri, keys=[row.key]) == 1
        row.refresh_from_db()
        assert row.status == MediaPreview.DONE
        stored = [item["Key"] for item in client.list_objects_v2(Bucket="shared-previews")["Contents"]]
        assert stored == [f"hyperdata/{row.file}"]  # in the bucket, under the prefix; nothing on local disk
        link = selectors.frames_to_dicts([selectors.frame_get(user=SYSTEM, version=version, frame_id="f")],
                                         user=SYSTEM, version=version)[0]["sources"][0]["preview"]["uri"]
        answer = admin_client.get(link)
        assert answer.status_code == 200
        thumbnail = Image.open(io.BytesIO(b"".join(answer.streaming_content)))
        assert max(thumbnail.size) == settings.HYPERDATA_TILE_SIZE and thumbnail.getpixel((10, 10))[0] > 150
