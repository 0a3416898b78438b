"""Core: the typed domain errors every entry point maps once, to HTTP, speech or a device result."""
from __future__ import annotations

from datetime import datetime

from core.moments import told


class TurnoutError(Exception):
    """Base of every error the core raises on purpose. `code` is stable; the message is for people."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def code(self) -> str:
        return type(self).__name__


class InvalidInput(TurnoutError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, **({"field": field} if field else {}))
        self.field = field


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__("The cursor is not one this list handed out.", field="cursor")


class RequestIdReused(InvalidInput):
    """A request id already answered a different request (another action, event, person or arguments)."""

    def __init__(self) -> None:
        super().__init__("That request id was already used for a different request.", field="request_id")


class NotFound(TurnoutError):
    pass


class EventNotFound(NotFound):
    def __init__(self, event_id: str) -> None:
        super().__init__(f"No event with id {event_id!r}.", event_id=event_id)


class NotSignedUp(NotFound):
    def __init__(self, event_id: str, person: str) -> None:
        super().__init__(f"{person} is not signed up for this event.", event_id=event_id, person=person)


class DeviceNotFound(NotFound):
    def __init__(self, serial: str) -> None:
        super().__init__(f"No button with serial {serial!r} is bound.", serial=serial)


class FeedNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No calendar feed here: it was never made, or it was revoked or renewed.")


class SeriesNotFound(NotFound):
    def __init__(self, series_id: str) -> None:
        super().__init__(f"No series with id {series_id!r}.", series_id=series_id)


class NotInSeries(NotFound):
    def __init__(self, series_id: str, event_id: str) -> None:
        super().__init__(f"Event {event_id!r} is not an upcoming occurrence of series {series_id!r}.",
                         series_id=series_id, event_id=event_id)


class NoUpcomingEvent(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no upcoming event.")


class Conflict(TurnoutError):
    pass


class EventFull(Conflict):
    def __init__(self, event_id: str) -> None:
        super().__init__("The event is full and no waitlist place was asked for.", event_id=event_id)


class EventOver(Conflict):
    def __init__(self, event_id: str) -> None:
        super().__init__("The event is over; its list is closed.", event_id=event_id)


class SignupsClosed(Conflict):
    def __init__(self, event_id: str, closed_at: datetime) -> None:
        """closed_at: in the event's own zone, as the sentence tells it."""
        super().__init__(f"Sign-ups for this event closed {told(closed_at)}.", event_id=event_id,
                         closed_at=closed_at.isoformat())
        self.closed_at = closed_at


class NoRoomToGrow(Conflict):
    """A going party asked for more seats than are free, or jumped a line: it keeps the seats it holds."""

    def __init__(self, event_id: str, person: str, *, spots_left: int, waiting: int, guests: int) -> None:
        if waiting:
            why = ("1 person is" if waiting == 1 else f"{waiting} people are") + " waiting in line first"
        elif spots_left == 0:
            why = "the event is full"
        else:
            why = f"only {spots_left} more {'spot is' if spots_left == 1 else 'spots are'} free"
        super().__init__(
            f"The party cannot grow: {why}. {person} keeps {guests} guest{'' if guests == 1 else 's'}.",
            event_id=event_id,
            person=person,
            spots_left=spots_left,
            waiting=waiting,
        )


class NotGoing(Conflict):
    def __init__(self, event_id: str, person: str) -> None:
        super().__init__(
            f"{person} is on the waitlist, not going, so cannot check in.", event_id=event_id, person=person
        )


class CheckInNotOpen(Conflict):
    def __init__(self, event_id: str, opens_at: datetime) -> None:
        """opens_at: in the event's own zone, as the sentence tells it."""
        super().__init__(f"Check-in opens {told(opens_at)}.", event_id=event_id, opens_at=opens_at.isoformat())
        self.opens_at = opens_at


class NotWithSeatBlocks(Conflict):
    """An event whose seats are split into blocks for a crowd (seat_blocks) keeps its capacity as created."""

    def __init__(self, event_id: str) -> None:
        super().__init__("This event's seats are split into blocks for a crowd, so its capacity stays as it was "
                         "created.", event_id=event_id)


class CapacityBelowTaken(Conflict):
    def __init__(self, taken: int) -> None:
        super().__init__(f"{taken} places are already taken; capacity cannot go below that.", taken=taken)


class PairingCodeInvalid(TurnoutError):
    def __init__(self) -> None:
        super().__init__("That pairing code is wrong or has expired.")


class PairingLocked(TurnoutError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many wrong pairing codes; try again later.", retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class NotLinked(TurnoutError):
    def __init__(self) -> None:
        super().__init__("This Alexa user is not linked to a person yet.")


class Unauthorized(TurnoutError):
    """A request that needs a signed-in caller came without one (no verified token's claims)."""

    def __init__(self) -> None:
        super().__init__("Sign in first: send Authorization: Bearer <token>.")


class Forbidden(TurnoutError):
    """A signed-in caller asked to act for someone else, or to do what only organizers do."""


class Busy(TurnoutError):
    """The table stayed contended or throttled after every retry: a real infrastructure condition."""

    def __init__(self) -> None:
        super().__init__("The service is busy; try again shortly.")


class Throttled(Busy):
    """DynamoDB kept refusing for throughput after every retry: the caller should slow down, not only retry."""

    def __init__(self) -> None:
        TurnoutError.__init__(self, "Too many requests right now; slow down and try again shortly.")
