"""API clients of the tests, signed in as a user."""
from django.contrib.auth.models import User
from rest_framework.test import APIClient


def api_client(user, *, pages: bool = False) -> APIClient:
    """An APIClient signed in as `user` (a User, or the name of a new user without staff rights), which it keeps
    as `client.user`; with pages=True its session signs in the pages (and media) too."""
    if isinstance(user, str):
        user = User.objects.create_user(user, password=f"pw-{user}-123456")
    client = APIClient()
    client.user = user
    client.force_authenticate(user)
    if pages:
        client.force_login(user)
    return client
