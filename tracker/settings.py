"""Tracker settings: one file, every value from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tracker.database import database_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# TRACKER_ENV=production turns on every production safeguard below and refuses
# to start on an unsafe configuration.
PRODUCTION = env.str("TRACKER_ENV", default="development") == "production"
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _refuse_unsafe_production() -> None:
    problems = []
    if DEBUG:
        problems.append("DEBUG is on; set DEBUG=false")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY == DEV_SECRET_KEY:
        problems.append(
            "SECRET_KEY is missing or weak; set at least 50 random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is unset or '*'; list the site's host names")
    if not env.str("TRACKER_PUBLIC_URL", default=""):
        problems.append(
            "TRACKER_PUBLIC_URL is unset; set the site's address, e.g. https://track.example.com"
        )
    if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend" and not env.bool(
        "TRACKER_ALLOW_CONSOLE_EMAIL", default=False
    ):
        # Customers' e-mails, tracking links included, would go to the log instead.
        problems.append(
            "EMAIL_URL is unset, so e-mails would only be written to the log; set EMAIL_URL "
            "(e.g. smtp+tls://user:password@smtp.example.com:587), or "
            "TRACKER_ALLOW_CONSOLE_EMAIL=true to accept that"
        )
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems) + ".")


INSTALLED_APPS = [
    "daphne",
    "tracker.admin.OperatorAdminConfig",  # the admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",
    "console",
    "orders",
    "api",
]

MIDDLEWARE = [
    "tracker.observability.RequestIdMiddleware",
    "tracker.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "api.middleware.ApiGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Sign-in throttling: answers a locked-out sign-in with our page (orders.views_staff).
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception sees the view's exception first.
    "tracker.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "tracker.urls"
ASGI_APPLICATION = "tracker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.csp.nonce",
            ],
        },
    },
]

# PostgreSQL's pool per process: connections kept open, the most open at once,
# and how long a request waits for one (or for a restarted database) before it
# answers 503 (tracker/database.py).
DATABASE_POOL = {
    "pool_min": env.int("TRACKER_DB_POOL_MIN_SIZE", default=2),
    "pool_max": env.int("TRACKER_DB_POOL_MAX_SIZE", default=12),
    "pool_timeout": env.float("TRACKER_DB_POOL_TIMEOUT_SECONDS", default=3.0),
}
DATABASES = {
    "default": database_config(
        env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), **DATABASE_POOL
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Pub/Sub is the default: one PUBLISH per change reaches every process, groups
# never expire, and sockets survive a Redis outage (docs/BENCHMARKS.md has the
# comparison with the core layer). CHANNEL_LAYER=core switches.
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
if REDIS_URL:
    _redis_host = {
        "address": REDIS_URL,
        # redis-py raises instead of waiting when its pool is exhausted (100 by
        # default): size it for a reconnect storm of one process's sockets.
        "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=1000),
    }
    _prefix = env.str("CHANNEL_LAYER_PREFIX", default="tracker")
    if CHANNEL_LAYER == "core":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [_redis_host],
                    "prefix": _prefix,
                    # A watcher's mailbox: pushes are whole snapshots, so a
                    # small one loses nothing that the next push does not carry.
                    "capacity": 50,
                    "expiry": 30,
                    # Sockets close at TRACKER_WS_MAX_AGE_SECONDS, well before this.
                    "group_expiry": 86400,
                },
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [_redis_host], "prefix": _prefix},
            }
        }
else:
    # One process only: the in-memory layer cannot reach other processes.
    CHANNEL_LAYERS = {"default": {"BACKEND": "tracker.layers.SweepingInMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): after TRACKER_SIGNIN_ATTEMPTS failures for one
# account, or from one client, sign-in is refused for TRACKER_SIGNIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("TRACKER_SIGNIN_ATTEMPTS", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("TRACKER_SIGNIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "tracker.clientaddr.request_client_address"
AXES_LOCKOUT_CALLABLE = "orders.views_staff.locked_out"
AXES_USERNAME_CALLABLE = "orders.views_staff.signin_username"
AXES_VERBOSE = False
LOGIN_URL = "orders:login"
LOGIN_REDIRECT_URL = "orders:board"
LOGOUT_REDIRECT_URL = "orders:login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: compressed (gzip + brotli), content-hashed names, cached for a year.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)  # EMAIL_BACKEND, EMAIL_HOST, … from one URL
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]  # named here for the check below
# SMTP waits at most this long for a server (a hung one must not hold up deliveries).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

if PRODUCTION:
    _refuse_unsafe_production()
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tracker@localhost")
# SMS providers plug in behind orders.sms; the default only logs (number masked).
SMS_BACKEND = env.str("SMS_BACKEND", default="orders.sms.LoggingBackend")
# Webhooks go only to public addresses; true lets an on-premise install call its own network.
TRACKER_WEBHOOKS_ALLOW_PRIVATE = env.bool("TRACKER_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Destinations (each webhook endpoint, SMTP, the SMS provider) served at once by a
# delivery worker: a hung one holds up only itself.
TRACKER_DELIVERY_CONCURRENCY = env.int("TRACKER_DELIVERY_CONCURRENCY", default=8)
# Failed e-mails, SMS and webhooks are retried with backoff for this long, then logged as failed.
TRACKER_DELIVERY_GIVE_UP_HOURS = env.int("TRACKER_DELIVERY_GIVE_UP_HOURS", default=24)

# Pages may only be framed by ourselves; the embed (later) sets its own per-shop policy.
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx reads no cookie: the token is put in hx-headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (deploy/nginx.conf).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # /healthz is polled over plain HTTP by local monitors.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# One JSON object per line on stderr, with the request id, personal data masked.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tracker.observability.RequestIdFilter"}},
    "formatters": {"json": {"()": "tracker.observability.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# Product knobs
TRACKER_UNDO_SECONDS = env.int("TRACKER_UNDO_SECONDS", default=300)
# Close customer sockets before Channels' group_expiry (24 h) with a reconnectable code.
TRACKER_WS_MAX_AGE_SECONDS = env.int("TRACKER_WS_MAX_AGE_SECONDS", default=6 * 3600)
TRACKER_POLL_SECONDS = env.int("TRACKER_POLL_SECONDS", default=5)
# Each process probes the Redis channel layer this often; a probe the layer refuses, or
# three in a row not back within the timeout, close its sockets (4013) so pages poll
# until the layer delivers again (a busy process answers late but still delivers).
TRACKER_LAYER_PROBE_SECONDS = env.float("TRACKER_LAYER_PROBE_SECONDS", default=5.0)
TRACKER_LAYER_PROBE_TIMEOUT_SECONDS = env.float("TRACKER_LAYER_PROBE_TIMEOUT_SECONDS", default=3.0)
# A change's notices to the channel layer may take this long at most: with Redis
# gone, publishing could otherwise hold the tap's answer until Redis came back. The
# change is committed either way; pages poll until pushes return.
TRACKER_PUBLISH_TIMEOUT_SECONDS = env.float("TRACKER_PUBLISH_TIMEOUT_SECONDS", default=2.0)
# Sockets one client address may hold open on one process (a shop's counter with
# many tablets behind one address stays far below it); more are closed with 4029.
TRACKER_SOCKETS_PER_CLIENT = env.int("TRACKER_SOCKETS_PER_CLIENT", default=200)
# How often a board checks that it has every change (tile count and version sum).
# Without Redis a change made by another process (manage.py create_order) reaches
# no socket, so the check is what brings it, and runs often.
TRACKER_BOARD_CHECK_SECONDS = env.int(
    "TRACKER_BOARD_CHECK_SECONDS", default=60 if REDIS_URL else 10
)
# Open staff board sockets re-check this often that their user is still signed in,
# active and a member of the shop (sign-out closes them at once).
TRACKER_STAFF_RECHECK_SECONDS = env.float("TRACKER_STAFF_RECHECK_SECONDS", default=60.0)
TRACKER_FEEDBACK_EDIT_SECONDS = env.int("TRACKER_FEEDBACK_EDIT_SECONDS", default=1800)
# The site's public address for links in messages, webhooks, the API and commands;
# empty: the address `make run` recorded (tracker/publicurl.py). Production must set it.
TRACKER_PUBLIC_URL = env.str("TRACKER_PUBLIC_URL", default="")
SITE_ID = 1
# How many proxies in front of Tracker append to X-Forwarded-For (deploy/nginx.conf: 1).
# The client's address is the entry that many from the right; 0: the connection's.
TRACKER_TRUSTED_PROXIES = env.int("TRACKER_TRUSTED_PROXIES", default=0)
# The country customers' phone numbers are read in when a shop's own number does
# not say (orders/phones.py): an ISO 3166 code such as RU, GB, DE.
TRACKER_PHONE_REGION = env.str("TRACKER_PHONE_REGION", default="RU").upper()
if TRACKER_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    # Every number typed without its + code would be refused as not a number.
    raise ImproperlyConfigured(
        f"TRACKER_PHONE_REGION={TRACKER_PHONE_REGION!r} is not a country code "
        "libphonenumber knows; use two letters such as RU, GB or DE."
    )
# Order lookup (number + phone or e-mail): failed attempts allowed per client (every
# lookup form together) per window.
TRACKER_LOOKUP_ATTEMPTS = env.int("TRACKER_LOOKUP_ATTEMPTS", default=5)
TRACKER_LOOKUP_WINDOW_SECONDS = env.int("TRACKER_LOOKUP_WINDOW_SECONDS", default=900)
# API: requests per key per minute, and the largest accepted body.
TRACKER_API_REQUESTS_PER_MINUTE = env.int("TRACKER_API_REQUESTS_PER_MINUTE", default=120)
TRACKER_API_MAX_BODY_BYTES = env.int("TRACKER_API_MAX_BODY_BYTES", default=65536)
