"""Benchmark: `python -m local` with moto as it comes (no local/moto_patches.py), the "before" side of the load rows."""
from __future__ import annotations

import sys

from local import __main__ as entry
from local.dynamodb import DynamoDBProcess

DynamoDBProcess.shortcuts = False  # the DynamoDB process runs without them (--as-it-comes)

if __name__ == "__main__":
    sys.exit(entry.main())
