"""The embedded default's channel layer: Channels' in-memory layer, cleaned less often.

Channels' in-memory layer sweeps every channel and every group for expired
entries on each receive. Every socket receives once per connect and once per
pushed fragment, so with thousands of sockets each connect and each delivery paid
for a walk over all of them (quadratic in the sockets held). Sweeping at most once
a second expires entries at most a second late and keeps a receive O(1).
"""

import time

from channels.layers import InMemoryChannelLayer

SWEEP_SECONDS = 1.0


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):
    _swept_at = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            super()._clean_expired()
