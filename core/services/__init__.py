"""Core services: the one entry every edge calls. Plain arguments in, domain values or typed errors out.

One module per area - events, signups, devices (buttons), pairing (Alexa), people (profiles and notices) - and
this package names what they offer, so an edge says `services.sign_up` without knowing which room it is in. The
button's press path is core/presses.py, apart, so that the IoT function imports it alone.

A room is imported when one of its names is first read (PEP 562's module __getattr__), not with the package: a cold
start pays only for the rooms its first request calls, so a sign-up builds none of the people's, the notices' or
the pairing's items (make bench; docs/SCALING.md, "What observability costs a cold start")."""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Whichever room is used first, the table's client is built with the package, while the container is built
# (core.startup): at import, not in the first request.
from core import table  # noqa: F401

# Each room and the names it offers through this package.
ROOMS: dict[str, tuple[str, ...]] = {
    "core.presses": ("next_event",),
    "core.services.devices": ("bind_device", "get_device", "list_devices", "unbind_device"),
    "core.services.events": ("EVENTS_PAGE", "create_event", "delete_event", "get_event", "list_events", "update_event"),
    "core.services.pairing": ("issue_pairing_code", "linked_person", "redeem_pairing_code"),
    "core.services.people": ("change_correlation", "get_person", "list_notices", "notice_sent", "notices_for_change",
                             "read_out_notices", "set_person", "store_notice"),
    "core.services.signups": ("cancel_signup", "cancel_signup_for", "check_in", "get_signup", "list_signups",
                              "sign_up"),
}
_ROOM_OF = {name: room for room, names in ROOMS.items() for name in names}

__all__ = sorted(_ROOM_OF)

if TYPE_CHECKING:  # the same names, for the type checker, which does not run __getattr__ (tests check they agree)
    from core.presses import next_event
    from core.services.devices import bind_device, get_device, list_devices, unbind_device
    from core.services.events import EVENTS_PAGE, create_event, delete_event, get_event, list_events, update_event
    from core.services.pairing import issue_pairing_code, linked_person, redeem_pairing_code
    from core.services.people import (
        change_correlation,
        get_person,
        list_notices,
        notice_sent,
        notices_for_change,
        read_out_notices,
        set_person,
        store_notice,
    )
    from core.services.signups import cancel_signup, cancel_signup_for, check_in, get_signup, list_signups, sign_up
else:
    def __getattr__(name: str) -> Any:
        """A service's name read for the first time: its room is imported, and the name kept here from then on."""
        room = _ROOM_OF.get(name)
        if room is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(room), name)
        globals()[name] = value
        return value
