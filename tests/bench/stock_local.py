"""Benchmark: `python -m local` with moto as it comes (no local/moto_shortcuts.py, HTTP/1.0 to moto), the "before" side."""
from __future__ import annotations

import sys

from local import __main__ as entry
from local import dynamodb, moto_shortcuts

moto_shortcuts.install = lambda: None  # type: ignore[assignment]
dynamodb._QuietRequestHandler.protocol_version = "HTTP/1.0"

if __name__ == "__main__":
    sys.exit(entry.main())
