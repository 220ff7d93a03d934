from tests.support.servers import browser, polling_server, server  # noqa: F401 — fixtures
