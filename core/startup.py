"""Core: what each Lambda entry point calls around building its container (imports, clients, tables), once.

Everything built then lives as long as the container, so a garbage collection during it finds nothing to free,
yet each one walks every object made so far (botocore's loaded models among them). So collection pauses while
the container is built, and what was built is then set aside for good (gc.freeze): cold start is a target
(make bench; docs/SCALING.md has the figures), and later collections walk only what requests make."""
from __future__ import annotations

import gc

_paused = [False]


def begin() -> None:
    """First thing in an entry point's module: no collection until end()."""
    _paused[0] = gc.isenabled()
    gc.disable()


def end() -> None:
    """Last thing in an entry point's module, once its imports have built the container (core.table builds the
    table's client at import): what was built is set aside for good, and collection resumes if begin() paused it."""
    gc.freeze()
    if _paused[0]:
        gc.enable()
        _paused[0] = False
