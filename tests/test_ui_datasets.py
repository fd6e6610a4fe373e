"""Dataset and version pages (server side and in Chromium)."""
import pytest

from frames import services


@pytest.mark.django_db
def test_pages_render(admin_client):
    dataset = services.dataset_create(name="cars", tags=["street"])
    version = dataset.versions.get()
    for url in ["/", f"/datasets/{dataset.pk}/", f"/versions/{version.pk}/", f"/versions/{version.pk}/stats/",
                f"/versions/{version.pk}/metadata/", f"/versions/{version.pk}/info/", f"/versions/{version.pk}/publish/",
                f"/versions/{version.pk}/snapshot/", f"/versions/{version.pk}/edit/", f"/versions/{version.pk}/delete/",
                f"/datasets/{dataset.pk}/edit/", f"/datasets/{dataset.pk}/delete/", "/datasets/new/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, (url, response.content[:500])
