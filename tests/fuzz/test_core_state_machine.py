"""Sign up, cancel and check in, driven at random by hypothesis, always agree with a simple model."""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from core import errors, services

STARTS = datetime(2026, 12, 4, 7, 0, tzinfo=timezone.utc)
OPENS = STARTS - timedelta(minutes=10)
PEOPLE = st.sampled_from(["ann", "bob", "cat", "dan", "eve", "fay"])


class SignupModel:
    """What Turnout promises: seats by headcount, a first-come line whose free seats go to the first party that
    fits (a bigger one ahead keeps its place), one signup per person."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.going: dict[str, int] = {}  # person -> guests
        self.line: list[tuple[str, int]] = []
        self.checked_in: set[str] = set()

    def seats_left(self) -> int:
        return self.capacity - sum(1 + g for g in self.going.values())

    def signed_up(self, person: str) -> bool:
        return person in self.going or any(p == person for p, _ in self.line)

    def sign_up(self, person: str, guests: int) -> str:
        if self.signed_up(person):
            return self.resize(person, guests)
        if 1 + guests > self.capacity:
            return "too_big"
        if self.first_to_fit() is None and self.seats_left() >= 1 + guests:
            self.going[person] = guests  # nobody waiting fits the free seats: they go to the newcomer
            return "going"
        self.line.append((person, guests))
        return "waitlisted"

    def resize(self, person: str, guests: int) -> str:
        """A signed-up person asking again with guests: the party changes where it stands, or stays as it is."""
        before = self.guests_of(person)
        if guests == before:
            return "existing"
        if 1 + guests > self.capacity:
            return "too_big"
        if person in self.going:
            if guests > before and (self.line or self.seats_left() < guests - before):
                return "no_room"
            self.going[person] = guests
        else:
            self.line = [(p, guests if p == person else g) for p, g in self.line]
        self.promote()
        return "existing"

    def first_to_fit(self) -> int | None:
        return next((n for n, (_, guests) in enumerate(self.line) if 1 + guests <= self.seats_left()), None)

    def promote(self) -> str | None:
        promoted = None
        while (n := self.first_to_fit()) is not None:
            person, guests = self.line.pop(n)
            self.going[person] = guests
            promoted = promoted or person
        return promoted

    def guests_of(self, person: str) -> int:
        return self.going[person] if person in self.going else next(g for p, g in self.line if p == person)

    def cancel(self, person: str) -> str | None:
        self.checked_in.discard(person)
        if person in self.going:
            del self.going[person]
        else:
            self.line = [(p, g) for p, g in self.line if p != person]
        return self.promote()


class SignupMachine(RuleBasedStateMachine):
    reset_table: Callable[[], None]

    def __init__(self) -> None:
        super().__init__()
        self.reset_table()
        self.ticks = 0

    def now(self) -> datetime:
        """A clock that moves on with every action, as a real one would: the line is kept by arrival time."""
        self.ticks += 1
        return OPENS + timedelta(milliseconds=self.ticks)

    @initialize(capacity=st.integers(min_value=1, max_value=4), blocks=st.sampled_from([None, 2]))
    def create(self, capacity: int, blocks: int | None) -> None:
        # A hot event (seat blocks) keeps the same promises, but for one: a going party grows only into its own
        # block's free seats (docs/SCALING.md).
        self.blocks = blocks if blocks is not None and capacity >= blocks else None
        self.model = SignupModel(capacity)
        self.event = services.create_event(name="Ski trip", starts_at=STARTS.isoformat(), capacity=capacity,
                                           seat_blocks=self.blocks, now=self.now())

    @rule(person=PEOPLE, guests=st.sampled_from([0, 0, 0, 1, 2]))
    def sign_up(self, person: str, guests: int) -> None:
        before = copy.deepcopy(self.model)
        growing = person in self.model.going and guests > self.model.going[person]
        expected = self.model.sign_up(person, guests)
        try:
            outcome = services.sign_up(self.event.event_id, person, guests=guests, now=self.now())
        except errors.InvalidInput as refused:
            assert expected == "too_big" and refused.field == "guests"
            return
        except errors.NoRoomToGrow:
            if self.blocks and growing and expected == "existing":
                self.model = before  # the room was on another block
                return
            assert expected == "no_room"
            return
        if expected == "existing":
            assert not outcome.created and outcome.signup.guests == guests
        else:
            assert outcome.created and outcome.signup.status == expected

    @rule(person=PEOPLE)
    def cancel(self, person: str) -> None:
        if not self.model.signed_up(person):
            try:
                services.cancel_signup(self.event.event_id, person, now=self.now())
            except errors.NotSignedUp:
                return
            raise AssertionError("cancelled a signup that does not exist")
        guests = self.model.guests_of(person)
        was_going = person in self.model.going
        expected_first = self.model.cancel(person)
        result = services.cancel_signup(self.event.event_id, person, now=self.now())
        assert (result.cancelled.person, result.cancelled.guests) == (person, guests)
        assert result.cancelled.status == ("going" if was_going else "waitlisted")
        assert (result.promoted.person if result.promoted else None) == expected_first

    @rule(person=PEOPLE)
    def check_in(self, person: str) -> None:
        try:
            signup = services.check_in(self.event.event_id, person, now=self.now())
        except errors.NotSignedUp:
            assert not self.model.signed_up(person)
        except errors.NotGoing:
            assert any(p == person for p, _ in self.model.line)
        else:
            assert person in self.model.going and signup.checked_in_at is not None
            self.model.checked_in.add(person)

    @invariant()
    def table_matches_model(self) -> None:
        if not hasattr(self, "event"):
            return
        event = services.get_event(self.event.event_id)
        page = services.list_signups(self.event.event_id, limit=100)
        going = {s.person: s.guests for s in page.signups if s.status == "going"}
        line = [(s.person, s.guests) for s in page.signups if s.status == "waitlisted"]
        assert going == self.model.going
        assert line == self.model.line
        assert [s.position for s in page.signups if s.status == "waitlisted"] == list(range(1, len(line) + 1))
        assert {s.person for s in page.signups if s.checked_in_at} == self.model.checked_in
        assert (event.going, event.waitlisted) == (len(going), len(line))
        assert (event.seats_taken, event.spots_left) == (
            self.model.capacity - self.model.seats_left(),
            self.model.seats_left(),
        )
        assert event.spots_left == self.model.seats_left() >= 0
        assert len({s.person for s in page.signups}) == len(page.signups)


def test_signups_always_agree_with_the_model(reset_table):
    SignupMachine.reset_table = staticmethod(reset_table)
    run_state_machine_as_test(
        SignupMachine,
        settings=settings(
            max_examples=20, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
