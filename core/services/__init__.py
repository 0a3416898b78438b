"""Core services: the one entry every edge calls. Plain arguments in, domain values or typed errors out.

One module per area - events, signups, devices (buttons and Alexa pairing), people (profiles and notices) - and
this package names what they offer, so an edge says `services.sign_up` without knowing which room it is in. The
button's press path is core/presses.py, apart, so that the IoT function imports it alone."""
from __future__ import annotations

from core.presses import next_event
from core.services.devices import (
    bind_device,
    get_device,
    issue_pairing_code,
    linked_person,
    list_devices,
    redeem_pairing_code,
    unbind_device,
)
from core.services.events import EVENTS_PAGE, create_event, delete_event, get_event, list_events, update_event
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

__all__ = [
    "EVENTS_PAGE", "bind_device", "cancel_signup", "cancel_signup_for", "change_correlation", "check_in",
    "create_event", "delete_event", "get_device", "get_event", "get_person", "get_signup", "issue_pairing_code",
    "linked_person", "list_devices", "list_events", "list_notices", "list_signups", "next_event", "notice_sent",
    "notices_for_change", "read_out_notices", "redeem_pairing_code", "set_person", "sign_up", "store_notice",
    "unbind_device", "update_event",
]
