"""Local stack: a server of the stack's (the gateway, the DynamoDB endpoint, the OpenID provider) serving on a
thread of its own, started and stopped the same way by each."""
from __future__ import annotations

import socketserver
import threading


class ServedInThread:
    """Runs `server.serve_forever` on a daemon thread; `stop` shuts it down and closes its socket."""

    def __init__(self, server: socketserver.BaseServer, name: str):
        self.server = server
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # A short poll interval: shutdown() waits for the next poll, and restarts should be quick.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop that never ran
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    def serving(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
