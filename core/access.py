"""Core: who may do what - the caller behind a request, and the rules that let it act for a person or refuse."""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from core import errors
from core.validation import HANDLE


class Caller(NamedTuple):
    """Who a request comes from, as its edge established it: a verified token's claims, or nobody."""

    signed_in: bool
    person: str | None = None  # the handle this caller acts as; None when the token names no valid handle
    organizer: bool = False
    everyone: bool = False  # open mode: no token says who this is, so nobody is refused


ANONYMOUS = Caller(False)
# Open mode (TURNOUT_AUTH=off, never inside Lambda): every caller may do everything.
EVERYONE = Caller(True, None, True, True)


def identify(person: object, groups: Iterable[object], organizer_group: str) -> Caller:
    """A signed-in caller from its verified claims. A person claim that is not a handle names nobody rather
    than someone similar: no lowercasing or trimming, which could turn one login into another person."""
    handle = person if isinstance(person, str) and HANDLE.fullmatch(person) else None
    return Caller(True, handle, organizer_group in groups)


def require_signed_in(caller: Caller) -> None:
    if not caller.signed_in:
        raise errors.Unauthorized()


def require_reader(caller: Caller, *, public_reads: bool) -> None:
    if not public_reads:
        require_signed_in(caller)


def require_organizer(caller: Caller) -> None:
    require_signed_in(caller)
    if not caller.organizer:
        raise errors.Forbidden("Only an organizer may do this.")


def require_self_or_organizer(caller: Caller, person: str) -> None:
    """`person` themselves may act for themselves; an organizer may act for anyone."""
    require_signed_in(caller)
    if not (caller.organizer or caller.person == person):
        # Not named: the person may be one the caller had no way to know (a button's owner, GET /devices/{serial}).
        raise errors.Forbidden("Only the person themself or an organizer may do this.")


def require_self(caller: Caller, person: str) -> None:
    """Only `person` themselves, not even an organizer: what they are called and where they are told is theirs."""
    require_signed_in(caller)
    if not (caller.everyone or caller.person == person):
        raise errors.Forbidden(f"Only {person} may do this.")


def sees_check_in(caller: Caller, person: str) -> bool:
    """When someone checked in tells where they are: for them and the organizers, not for everyone who reads."""
    return caller.organizer or caller.person == person


def acts_for_someone_else(caller: Caller, person: str) -> bool:
    """An organizer acting on another person's signup: that person is told (open mode cannot tell, so never)."""
    return caller.organizer and not caller.everyone and caller.person != person
