"""Core Alexa pairing: codes are single use, expire, and repeated misses lock the Alexa user out."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import errors, services
from core.config import settings
from tests.support.clock import PINNED_AT

NOW = PINNED_AT
USER = "amzn1.ask.account.TESTUSER"


def test_a_code_links_once(table):
    code = services.issue_pairing_code("melvin", now=NOW)
    assert len(code.code) == 6 and code.code.isdigit()
    assert code.expires_at == NOW + timedelta(minutes=settings.pairing_code_minutes)
    with pytest.raises(errors.NotLinked):
        services.linked_person(USER)
    assert services.redeem_pairing_code(USER, code.code, now=NOW) == "melvin"
    assert services.linked_person(USER) == "melvin"
    with pytest.raises(errors.PairingCodeInvalid):
        services.redeem_pairing_code("amzn1.ask.account.OTHER", code.code, now=NOW)


def test_a_code_expires(table):
    code = services.issue_pairing_code("melvin", now=NOW)
    later = NOW + timedelta(minutes=settings.pairing_code_minutes, seconds=1)
    with pytest.raises(errors.PairingCodeInvalid):
        services.redeem_pairing_code(USER, code.code, now=later)


def test_repeated_misses_lock_the_user_for_a_while(table):
    code = services.issue_pairing_code("melvin", now=NOW)
    wrong = f"{(int(code.code) + 1) % 10**6:06d}"
    for _ in range(settings.pairing_max_misses):
        with pytest.raises(errors.PairingCodeInvalid):
            services.redeem_pairing_code(USER, wrong, now=NOW)
    with pytest.raises(errors.PairingLocked) as caught:
        services.redeem_pairing_code(USER, code.code, now=NOW)
    assert 0 < caught.value.retry_after_seconds <= settings.pairing_lock_minutes * 60
    with pytest.raises(errors.NotLinked):
        services.linked_person(USER)
    after_lock = NOW + timedelta(minutes=settings.pairing_lock_minutes, seconds=1)
    fresh = services.issue_pairing_code("melvin", now=after_lock)
    assert services.redeem_pairing_code(USER, fresh.code, now=after_lock) == "melvin"


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "", None])
def test_malformed_codes_are_misses(table, code):
    with pytest.raises(errors.PairingCodeInvalid):
        services.redeem_pairing_code(USER, code, now=NOW)


def test_linking_does_not_wipe_the_misses_before_it(table):
    # Four wrong codes, then a fresh code of one's own, over and over: the links take back nothing but themselves.
    wrong_answered = 0
    with pytest.raises(errors.PairingLocked):
        for _ in range(6):
            own = services.issue_pairing_code("mallory", now=NOW)
            wrong = f"{(int(own.code) + 1) % 10**6:06d}"
            for _ in range(settings.pairing_max_misses - 1):
                with pytest.raises(errors.PairingCodeInvalid):
                    services.redeem_pairing_code(USER, wrong, now=NOW)
                wrong_answered += 1
            assert services.redeem_pairing_code(USER, own.code, now=NOW) == "mallory"
    assert wrong_answered == settings.pairing_max_misses


def test_the_misses_are_counted_in_a_window_from_the_first(table):
    code = services.issue_pairing_code("melvin", now=NOW)
    wrong = f"{(int(code.code) + 1) % 10**6:06d}"
    window = timedelta(minutes=settings.pairing_lock_minutes)
    step = window / settings.pairing_max_misses
    for n in range(settings.pairing_max_misses):  # spread over the window, each one step after the last
        with pytest.raises(errors.PairingCodeInvalid):
            services.redeem_pairing_code(USER, wrong, now=NOW + n * step)
    last = NOW + (settings.pairing_max_misses - 1) * step
    with pytest.raises(errors.PairingLocked) as caught:
        services.redeem_pairing_code(USER, code.code, now=last)
    assert caught.value.retry_after_seconds == int((NOW + window - last).total_seconds())
    fresh = services.issue_pairing_code("melvin", now=NOW + window)
    assert services.redeem_pairing_code(USER, fresh.code, now=NOW + window) == "melvin"


def test_the_table_keeps_no_code_in_plain_text(table):
    code = services.issue_pairing_code("melvin", now=NOW)
    items = table.scan(TableName=settings.table_name)["Items"]
    assert len(items) == 1
    assert code.code not in items[0]["pk"]["S"] and code.code not in [value.get("S") for value in items[0].values()]
    assert services.redeem_pairing_code(USER, code.code, now=NOW) == "melvin"
