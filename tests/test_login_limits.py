"""Password guessing is limited (issue 16): django-axes locks a user name and an address after a few failed
sign-ins, on /login/ and on POST /api/auth/token/ alike, and DRF throttles the token endpoint per address.

The requests go through the whole middleware stack (Django's test client, with the client address set per
request, as a reverse proxy-less server sees it in REMOTE_ADDR)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

ATTACKER, VICTIM_LAPTOP, ELSEWHERE = "10.9.0.1", "10.9.0.2", "10.9.0.3"  # conftest resets their rate counts
PASSWORDS = {"alice": "alice-right-pw-1", "bob": "bob-right-pw-22"}


@pytest.fixture
def users(django_user_model):
    return {name: django_user_model.objects.create_user(name, password=pw) for name, pw in PASSWORDS.items()}


def sign_in(address, username, password):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/login/", {"username": username, "password": password})
    return response, client


def token(address, username, password):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", {"username": username, "password": password})


def signed_in(client) -> bool:
    return client.get("/").status_code == 200  # anonymous visitors are sent to /login/


@pytest.mark.django_db
def test_twenty_wrong_passwords_on_the_login_page_lock_the_account_and_the_address(users):
    codes = [sign_in(ATTACKER, "alice", f"guess-{n}")[0].status_code for n in range(20)]
    limit = settings.AXES_FAILURE_LIMIT
    assert codes[: limit - 1] == [200] * (limit - 1)  # the form again, "Please enter a correct username..."
    assert set(codes[limit - 1:]) == {429}

    response, client = sign_in(ATTACKER, "alice", PASSWORDS["alice"])
    assert response.status_code == 429 and not signed_in(client)
    page = response.content.decode()
    assert "Too many sign-in attempts" in page and "the right password does not help" in page
    assert f"Try again in {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes" in page

    # The account is locked wherever its owner is, the address for every account...
    response, client = sign_in(VICTIM_LAPTOP, "alice", PASSWORDS["alice"])
    assert response.status_code == 429 and not signed_in(client)
    response, client = sign_in(ATTACKER, "bob", PASSWORDS["bob"])
    assert response.status_code == 429 and not signed_in(client)
    # ...and nobody else is affected.
    response, client = sign_in(ELSEWHERE, "bob", PASSWORDS["bob"])
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.django_db
def test_twenty_wrong_passwords_on_the_token_endpoint_lock_the_account_and_the_address(users):
    answers = [token(ATTACKER, "alice", f"guess-{n}") for n in range(20)]
    limit = settings.AXES_FAILURE_LIMIT
    assert [a.status_code for a in answers[: limit - 1]] == [400] * (limit - 1)
    assert {a.status_code for a in answers[limit - 1:]} == {429}
    assert "too many failed sign-ins" in answers[limit - 1].json()["detail"]
    assert int(answers[limit - 1]["Retry-After"]) > 0

    refused = token(ATTACKER, "alice", PASSWORDS["alice"])
    assert refused.status_code == 429 and "token" not in refused.json()
    # Locked for the account from another address (not the rate limit: that address asked nothing yet)...
    refused = token(VICTIM_LAPTOP, "alice", PASSWORDS["alice"])
    assert refused.status_code == 429 and "too many failed sign-ins" in refused.json()["detail"]
    # ...and the address for another account; the login page shares the lock.
    assert token(ATTACKER, "bob", PASSWORDS["bob"]).status_code == 429
    assert sign_in(VICTIM_LAPTOP, "alice", PASSWORDS["alice"])[0].status_code == 429
    granted = token(ELSEWHERE, "bob", PASSWORDS["bob"])
    assert granted.status_code == 200 and granted.json()["token"]


@pytest.mark.django_db
def test_the_lock_lifts_after_the_cool_off(users, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(ATTACKER, "alice", f"guess-{n}")
    assert sign_in(ATTACKER, "alice", PASSWORDS["alice"])[0].status_code == 429
    time.sleep(2.5)
    response, client = sign_in(ATTACKER, "alice", PASSWORDS["alice"])
    assert response.status_code == 302 and signed_in(client)


@pytest.mark.django_db
def test_the_token_endpoint_answers_a_limited_number_of_requests_per_address(users):
    rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"].split("/")[0])
    answers = [token(ATTACKER, "bob", PASSWORDS["bob"]) for _ in range(rate + 1)]
    assert [a.status_code for a in answers[:rate]] == [200] * rate  # right passwords: no lockout involved
    assert answers[rate].status_code == 429 and "throttled" in answers[rate].json()["detail"]
    assert token(ELSEWHERE, "bob", PASSWORDS["bob"]).status_code == 200


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_change_the_address_counted(users):
    """Without HYPERDATA_NUM_PROXIES a client cannot pose as another address to get fresh tries."""
    client = APIClient(REMOTE_ADDR=ATTACKER)
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/auth/token/", {"username": f"user-{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    refused = client.post("/api/auth/token/", {"username": "bob", "password": PASSWORDS["bob"]},
                          HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert refused.status_code == 429


@pytest.mark.django_db
def test_signing_in_to_an_account_of_ones_own_does_not_wipe_the_address_count(users):
    """bob is the attacker's own account: his success between guesses at other accounts resets nothing."""
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        assert sign_in(ATTACKER, f"victim-{n}", "guess")[0].status_code == 200
    assert sign_in(ATTACKER, "bob", PASSWORDS["bob"])[0].status_code == 302
    assert sign_in(ATTACKER, "victim-last", "guess")[0].status_code == 429  # the address's fifth failure
