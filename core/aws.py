"""Core: AWS clients besides the table's, built on the table's own botocore session (one session per container)."""
from __future__ import annotations

from typing import Any

from core.config import settings
from core.table import connection


def client(service: str, **options: Any) -> Any:
    """A botocore client for `service`, on the table's session: a second session would load botocore's data again."""
    return connection.session.create_client(service, region_name=settings.region, **options)
