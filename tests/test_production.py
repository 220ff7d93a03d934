"""Production mode, run as production runs: settings checks and a real Daphne."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client

from orders import services
from tests.support.servers import ROOT, free_port, run_manage, start_daphne, stop
from tracker.observability import JsonFormatter, RequestIdFilter, redact

PROD = {
    "TRACKER_ENV": "production",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "track.example.com,127.0.0.1",
    "EMAIL_URL": "smtp+tls://tracker:secret@smtp.example.com:587",
    "TRACKER_PUBLIC_URL": "https://track.example.com",
}


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PROD}
    return run_manage({**base, **env}, *args, check=False)


def test_check_deploy_is_clean_in_production() -> None:
    result = manage(PROD, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is missing or weak"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is missing or weak"),
        ({"SECRET_KEY": "a" * 60}, "SECRET_KEY is missing or weak"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is unset"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS is unset or '*'"),
        ({"EMAIL_URL": "consolemail://"}, "e-mails would only be written to the log"),
        ({"TRACKER_PUBLIC_URL": ""}, "TRACKER_PUBLIC_URL is unset"),
    ],
)
def test_production_refuses_to_start_unsafe(override: dict, message: str) -> None:
    result = manage({**PROD, **override}, "check")
    assert result.returncode != 0
    assert "Refusing to start in production" in result.stderr and message in result.stderr


@pytest.mark.parametrize("region", ["XX", "RUS", ""])
def test_an_unknown_phone_region_refuses_to_start(region: str) -> None:
    result = manage({"TRACKER_PHONE_REGION": region}, "check")
    assert result.returncode != 0
    assert "is not a country code" in result.stderr
    assert manage({"TRACKER_PHONE_REGION": "gb"}, "check").returncode == 0


def test_production_takes_the_console_e_mail_backend_only_when_told_to() -> None:
    opted_in = {**PROD, "EMAIL_URL": "consolemail://", "TRACKER_ALLOW_CONSOLE_EMAIL": "true"}
    assert manage(opted_in, "check").returncode == 0


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("prod")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in PROD},
        **PROD,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "REDIS_URL": "",
        "STATIC_ROOT": str(tmp / "static"),
    }
    for args in (("migrate", "--noinput"), ("collectstatic", "--noinput"), ("seed_demo",)):
        run_manage(env, *args)
    process = start_daphne(env, port)
    yield f"http://127.0.0.1:{port}"
    stop(process)


def fetch(url: str, headers: dict | None = None) -> tuple[int, object, bytes]:
    """GET from our own server; headers come back case-insensitive."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_production_serves_static_files_compressed_hashed_and_cached(production_server) -> None:
    _, _, html = fetch(production_server + "/staff/login/")
    css = next(
        part.split('"')[0]
        for part in html.decode().split('href="')
        if part.startswith("/static/css/")
    )
    assert css.count(".") >= 2, f"not content-hashed: {css}"
    status, headers, _ = fetch(production_server + css, {"Accept-Encoding": "br, gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "br"
    assert (
        "max-age=315360000" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
    )
    script = next(p.split('"')[0] for p in html.decode().split('src="') if "htmx-2" in p)
    status, headers, _ = fetch(production_server + script, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"


def test_production_redirects_plain_http_but_not_the_health_check(production_server) -> None:
    request = urllib.request.Request(production_server + "/staff/login/")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"].startswith("https://")
    status, _, body = fetch(production_server + "/healthz", {"X-Forwarded-Proto": "http"})
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_production_pages_send_security_headers(production_server) -> None:
    _, headers, _ = fetch(production_server + "/staff/login/")
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert len(headers["X-Request-ID"]) == 16


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# --- health and logs, in process ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_healthz_is_ok_when_database_and_layer_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() | {"ms": 0} == {
        "status": "ok",
        "database": "ok",
        "channel_layer": "ok",
        "ms": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_healthz_says_which_part_failed(client: Client, settings) -> None:
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens there
        }
    }
    channel_layers.backends.clear()
    try:
        response = client.get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["channel_layer"].startswith("failed")


@pytest.mark.django_db(transaction=True)
def test_healthz_refuses_post(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_request_id_is_taken_from_the_proxy_or_made(client: Client) -> None:
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="<bad id>")["X-Request-ID"]
    assert made != "<bad id>" and len(made) == 16


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Every log line written meanwhile, as the production formatter writes it."""
    handler = logging.StreamHandler(stream := io.StringIO())
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def _order_with_contacts(shop: object, staff: object, number: str, **contacts: str) -> object:
    return services.create_order(
        shop=shop,
        workflow=shop.workflows.first(),
        number=number,
        customer_name="Eve",
        by=staff,
        **contacts,
    )


def test_logs_never_carry_phone_numbers_or_e_mail_addresses(shop, staff) -> None:
    with json_logs() as stream:
        order = _order_with_contacts(
            shop, staff, "55", phone="+7 (912) 345-67-89", email="eve@example.org"
        )
        logging.getLogger("orders").warning("contact %s / %s failed", order.phone, order.email)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "contact [phone] / [email] failed"
    assert set(line) == {"time", "level", "logger", "request_id", "message"}


def test_redact_keeps_order_numbers_and_times() -> None:
    assert redact("order 1042 at 19:40, v12") == "order 1042 at 19:40, v12"
    assert redact("call 89123456789 or a.b+c@d.ru") == "call [phone] or [email]"
    assert redact("+44 20 7946 0958, +1 (415) 555-2671") == "[phone], [phone]"
    # Dates, times and counters are not phone numbers.
    kept = "at 2026-12-03 14:05:33, order 100200300, 12 345 items"
    assert redact(kept) == kept


def test_no_tracking_token_in_any_log_line(shop, staff) -> None:
    from orders import outbox

    # The default SMS backend logs the text it would send, which carries the link.
    with json_logs() as stream:
        order = _order_with_contacts(shop, staff, "56", phone="+7 912 345-67-89")
        outbox.deliver_due()
    logged = stream.getvalue()
    assert "sms to" in logged and "/t/[token]" in logged
    assert order.token not in logged and "345-67-89" not in logged


def test_env_example_lists_every_setting_read_from_the_environment() -> None:
    settings_src = (ROOT / "tracker" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    keys = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_src))
    missing = {k for k in keys if f"\n{k}=" not in "\n" + example}
    assert keys and not missing, missing


def test_the_serve_launcher_refuses_several_workers_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "tracker.serve", "--workers", "2", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "need REDIS_URL" in result.stderr
    assert Path(ROOT / "tracker" / "serve.py").exists()
