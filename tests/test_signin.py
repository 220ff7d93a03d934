"""Sign-in throttling (django-axes): per account and per client, in both languages."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

LOGIN = "/staff/login/"


def sign_in(client: Client, username: str, password: str, **extra: str) -> object:
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(
    staff: object, settings
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "anna", "wrong").status_code == 200  # the form again
    locked = sign_in(client, "anna", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Please try again in 15 minutes." in locked.content.decode()
    assert locked["Retry-After"] == "900"
    # Even the right password is refused now, from another client too (per account).
    elsewhere = Client(HTTP_ACCEPT_LANGUAGE="ru", REMOTE_ADDR="203.0.113.9")
    refused = sign_in(elsewhere, "anna", "pw-anna")
    assert refused.status_code == 429
    assert "Слишком много неудачных попыток входа" in refused.content.decode()


def test_one_client_guessing_many_accounts_is_locked_out(db: None, settings) -> None:
    users = get_user_model().objects
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        users.create_user(f"user{n}", password="right-password")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    answers = [
        sign_in(client, f"user{n}", "wrong").status_code for n in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert answers[-1] == 429
    # The next account is refused from this client even with its right password...
    assert (
        sign_in(client, f"user{settings.AXES_FAILURE_LIMIT}", "right-password").status_code == 429
    )
    # ...but not from another client.
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert sign_in(other, f"user{settings.AXES_FAILURE_LIMIT}", "right-password").status_code == 302


def test_the_admin_sign_in_is_throttled_too(db: None, settings) -> None:
    get_user_model().objects.create_superuser("root", password="root-password")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        answer = client.post(
            "/admin/login/", {"username": "root", "password": "wrong", "next": "/admin/"}
        )
    assert answer.status_code == 429


@pytest.mark.parametrize("limit", [1])
def test_a_good_sign_in_clears_the_failures(staff: object, settings, limit: int) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "anna", "wrong")
    assert sign_in(client, "anna", "pw-anna").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "anna", "wrong").status_code == 200


def test_a_very_long_user_name_is_refused_not_a_500(db: None) -> None:
    answer = sign_in(Client(), "x" * 5000, "wrong")
    assert answer.status_code == 200  # the form again, saying the pair does not match
