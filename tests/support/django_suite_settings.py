"""Settings for Django's own test suite, with the databases exactly as Tracker ships them.

`tests/test_django_suite.py` runs Django's backend tests with these: the connection
options, the PostgreSQL pool and its session reset come from `tracker.database`, the
pool sizes from `tracker.settings`. The rest mirrors Django's own test settings.
"""

import os

from tracker.database import database_config
from tracker.settings import DATABASE_POOL

DATABASES = {
    alias: database_config(os.environ[variable], **DATABASE_POOL)
    for alias, variable in (
        ("default", "DJANGO_SUITE_DATABASE_URL"),
        ("other", "DJANGO_SUITE_OTHER_DATABASE_URL"),
    )
}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
