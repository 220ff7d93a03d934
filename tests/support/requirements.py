"""Tests needing an outside service skip without it, and fail in CI (never pass by skipping)."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("CI") == "true" or bool(
    os.environ.get("TRACKER_REQUIRE_SERVICES")
)


def need(available: bool, reason: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)
