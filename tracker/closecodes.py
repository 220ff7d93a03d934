"""The WebSocket close codes the server sends, and why pages reconnect after each.

Daphne (autobahn) lets applications send only 1000 or 3000-4999 and raises on
anything else, so the standard codes (RFC 6455 and IANA's registry) get private
twins in 4000-4999. The page reconnects on any close while the order is not
finished (static/js/tracker.js).
"""

CLOSE_POLICY_VIOLATION = 4008  # 1008: a client wrote to a read-only socket
CLOSE_SERVICE_RESTART = 4012  # 1012: the process stops, or the socket is old; come back
CLOSE_TRY_AGAIN_LATER = 4013  # 1013: the channel layer is not delivering; poll meanwhile
CLOSE_ACCESS_ENDED = 4003  # 1008-like: signed out, removed from the shop or deactivated
CLOSE_TOO_MANY_SOCKETS = 4029  # 429-like: this client has TRACKER_SOCKETS_PER_CLIENT open
