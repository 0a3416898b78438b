"""Skill entry point: an Alexa envelope in, the spoken event name resolved, one core action, speech out."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging
from datetime import datetime

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_core.utils import get_user_id, is_intent_name, is_request_type
from ask_sdk_model import Intent, IntentConfirmationStatus, Slot, SlotConfirmationStatus
from ask_sdk_model.ui import SimpleCard

from core import clock, logs, metrics, services
from core.config import settings
from core.errors import NotLinked, NotSignedUp, TurnoutError
from core.values import Event
from skills import speech
from skills.matching import match_event, words
from skills.whens import when

log = logging.getLogger(__name__)

# The skill id is this entry point's only setting. Deployed, it is required, so the function
# can never answer for another skill; locally it is checked only when set.
SKILL_ID = settings.skill_id
if SKILL_ID is None and settings.in_lambda:
    raise RuntimeError("TURNOUT_SKILL_ID must be set in AWS: the skill refuses to run unverified.")

# How many upcoming events a spoken name is matched against: one query's worth.
MATCH_WINDOW = 50
# How much of a slot is read: an event's longest name (core.validation.NAME_MAX) with words around it.
SLOT_CHARS_MAX = 200
# Cancelling with no event named: how many of the soonest events are looked through for the person's signup.
SIGNUPS_LOOKED_AT = 5

skill_builder = SkillBuilder()
# Read by the SDK on every request, so the local stack and the tests can change it after import.
skill_builder.skill_id = SKILL_ID  # type: ignore[assignment]  # ask-sdk-core: skill_id is set to an untyped None

# Every intent this skill answers, with the slots its handler reads. The interaction model in
# skill-package/ is checked against this table by tests/unit/test_skill_model.py.
INTENT_SLOTS: dict[str, tuple[str, ...]] = {}


def intent(*names: str, slots: tuple[str, ...] = ()):
    """Registers a handler for these intents, declaring the slots it may read."""
    for name in names:
        INTENT_SLOTS[name] = slots
    if len(names) == 1:
        return skill_builder.request_handler(can_handle_func=is_intent_name(names[0]))
    matchers = [is_intent_name(name) for name in names]
    return skill_builder.request_handler(
        # ask-sdk-runtime: request_handler types the predicate's argument as its unbound TypeVar Input, which a
        # predicate of HandlerInput (is_intent_name's) does not accept.
        can_handle_func=lambda handler_input: any(matches(handler_input) for matches in matchers))  # type: ignore[arg-type]


# --- Reading the request ---------------------------------------------------------------------

def _slot(handler_input, name: str) -> str | None:
    """What the user said for a slot; None when unfilled or not understood ("?")."""
    request = handler_input.request_envelope.request
    if name not in INTENT_SLOTS.get(request.intent.name, ()):
        # A handler reading a slot it did not declare would drift from the model unnoticed.
        raise LookupError(f"{request.intent.name} does not declare slot {name!r}")
    slot = (request.intent.slots or {}).get(name)
    # Bounded: it is matched against names and may be said back, and only a body made by hand holds more.
    value = (slot.value or "")[:SLOT_CHARS_MAX].strip() if slot else ""
    return value if value and value != "?" else None


def _now() -> datetime:
    # Core's clock, not the request's timestamp: that is only as fresh as the envelope, and a saved one
    # (curl, a replay) would answer about the day it was recorded.
    return clock.now()


def _user(handler_input) -> str:
    return get_user_id(handler_input) or ""  # type: ignore[return-value]  # ask-sdk-core: typed AnyStr; JSON text


def _request_id(handler_input) -> str | None:
    return handler_input.request_envelope.request.request_id


def _person(handler_input) -> str:
    """The person linked to this Alexa user, looked up once per request (the notices and the intent share it).
    Raises NotLinked."""
    attributes = handler_input.attributes_manager.request_attributes
    if "person" not in attributes:
        try:
            attributes["person"] = services.linked_person(_user(handler_input))
        except NotLinked:
            attributes["person"] = None
    if attributes["person"] is None:
        raise NotLinked()
    return attributes["person"]


# --- Answering -------------------------------------------------------------------------------

def _tell(handler_input, text: str):
    return handler_input.response_builder.speak(text).set_should_end_session(True).response


def _ask(handler_input, text: str, reprompt: str):
    return handler_input.response_builder.speak(text).ask(reprompt).response


def _elicit(handler_input, slot: str, text: str, reprompt: str):
    """Asks for one slot of the current intent, so the bare answer comes back to the same handler."""
    # Imported on first use: few requests ask back, and nothing else loads ask_sdk_model.dialog at start.
    from ask_sdk_model.dialog import ElicitSlotDirective

    name = handler_input.request_envelope.request.intent.name
    updated = Intent(
        name=name,
        confirmation_status=IntentConfirmationStatus.NONE,
        slots={s: Slot(name=s, confirmation_status=SlotConfirmationStatus.NONE) for s in INTENT_SLOTS[name]},
    )
    return (handler_input.response_builder.speak(text).ask(reprompt)
            .add_directive(ElicitSlotDirective(updated_intent=updated, slot_to_elicit=slot)).response)


def _event_for(handler_input):
    """The event the user means, or the response that asks or explains when there is no single one."""
    spoken = _slot(handler_input, "event")
    now = _now()
    # Matching needs names and times only: the listing's counts are left unread (one call fewer).
    events = services.list_events(limit=MATCH_WINDOW, now=now, counts=False).items
    match = match_event(spoken, events)
    if match.event is not None:
        return match.event
    if match.choices:
        options = [(event, when(event.starts_at, now)) for event in match.choices]
        return _elicit(handler_input, "event", speech.which_one(options), speech.WHICH_REPROMPT)
    if not events:
        return _tell(handler_input, speech.NO_EVENTS)
    return _tell(handler_input, speech.no_such_event(spoken or ""))


# --- Requests and intents --------------------------------------------------------------------

@skill_builder.global_request_interceptor()
def refuse_an_envelope_without_a_request(handler_input):
    # Alexa always sends a request; a body without one ({"hello": 1}) is the caller's mistake, refused the way
    # the SDK's serializer refuses a body it cannot read rather than answered with an apology.
    if handler_input.request_envelope.request is None:
        raise SerializationException("Not an Alexa request envelope: it holds no request.")


@skill_builder.request_handler(can_handle_func=is_request_type("LaunchRequest"))
def launch(handler_input):
    return _ask(handler_input, speech.LAUNCH, speech.LAUNCH_REPROMPT)


@intent("WhoIsGoing", slots=("event",))
def who_is_going(handler_input):
    event = _event_for(handler_input)
    if not isinstance(event, Event):
        return event
    page = services.list_signups(event.event_id, status="going", limit=speech.NAMES_SPOKEN)
    return _tell(handler_input, speech.who_is_going(event, page.signups, page.going, page.waitlisted,
                                                             page.seats_taken))


@intent("HowManyGoing", slots=("event",))
def how_many_going(handler_input):
    event = _event_for(handler_input)
    if not isinstance(event, Event):
        return event
    return _tell(handler_input, speech.how_many(services.get_event(event.event_id)))


@intent("WhatsComingUp")
def whats_coming_up(handler_input):
    now = _now()
    page = services.list_events(limit=speech.EVENTS_SPOKEN, now=now, counts=False)
    upcoming = [(event, when(event.starts_at, now)) for event in page.items]
    return _tell(handler_input, speech.coming_up(upcoming, more=page.next_cursor is not None))


@intent("WhenIsEvent", slots=("event",))
def when_is_event(handler_input):
    event = _event_for(handler_input)
    if not isinstance(event, Event):
        return event
    return _tell(handler_input, speech.when_is(event, when(event.starts_at, _now())))


@intent("WhereIsEvent", slots=("event",))
def where_is_event(handler_input):
    event = _event_for(handler_input)
    if not isinstance(event, Event):
        return event
    return _tell(handler_input, speech.where_is(event))


@intent("SignUp", slots=("event",))
def sign_up(handler_input):
    # Who is speaking comes first: an unlinked user hears how to link before anything else.
    person = _person(handler_input)
    event = _event_for(handler_input)
    if not isinstance(event, Event):
        return event
    outcome = services.sign_up(event.event_id, person, source="alexa", request_id=_request_id(handler_input))
    return _tell(handler_input, speech.signed_up(event, outcome, when(event.starts_at, _now())))


@intent("CancelSignup", slots=("event",))
def cancel_signup(handler_input):
    """Asks first, naming the event and what a check-in loses ("Cancel your signup for Breakfast on Sunday?");
    cancels only on Alexa's CONFIRMED, for the event the question named."""
    person = _person(handler_input)
    status = handler_input.request_envelope.request.intent.confirmation_status
    named = words(_slot(handler_input, "event") or "")
    event = _event_for(handler_input) if named else _next_signed_up(handler_input, person)
    if not isinstance(event, Event):
        return event
    if status == IntentConfirmationStatus.DENIED:
        return _tell(handler_input, speech.kept(event))
    if status != IntentConfirmationStatus.CONFIRMED:
        signup = services.get_signup(event.event_id, person)  # NotSignedUp: nothing to ask about
        checked_in = signup.checked_in_at is not None
        question = speech.confirm_cancel(event, when(event.starts_at, _now()), checked_in=checked_in)
        return _confirm(handler_input, event, question)
    services.cancel_signup(event.event_id, person, request_id=_request_id(handler_input))
    return _tell(handler_input, speech.cancelled(event))


def _next_signed_up(handler_input, person: str):
    """No event named (or only "the"): the soonest upcoming event the person is signed up for, not merely the next
    one; the answer that explains when there is none."""
    events = services.list_events(limit=MATCH_WINDOW, now=_now(), counts=False).items
    for event in events[:SIGNUPS_LOOKED_AT]:
        try:
            services.get_signup(event.event_id, person)
        except NotSignedUp:
            continue
        return event
    return _tell(handler_input, speech.NO_SIGNUP if events else speech.NO_EVENTS)


def _confirm(handler_input, event: Event, question: str):
    """Alexa asks `question` and sends the intent back with confirmationStatus CONFIRMED or DENIED; the slot is
    set to the event's own name, so the answer comes back for the very event asked about."""
    from ask_sdk_model.dialog import ConfirmIntentDirective

    name = handler_input.request_envelope.request.intent.name
    updated = Intent(name=name, confirmation_status=IntentConfirmationStatus.NONE,
                     slots={"event": Slot(name="event", value=event.name,
                                          confirmation_status=SlotConfirmationStatus.NONE)})
    return (handler_input.response_builder.speak(question).ask(question)
            .add_directive(ConfirmIntentDirective(updated_intent=updated)).response)


@intent("LinkAccount", slots=("code",))
def link_account(handler_input):
    code = _pairing_code(_slot(handler_input, "code"))
    if code is None:
        return _elicit(handler_input, "code", speech.ASK_CODE, speech.ASK_CODE_REPROMPT)
    person = services.redeem_pairing_code(_user(handler_input), code)
    return _tell(handler_input, speech.linked(person))


def _pairing_code(spoken: str | None) -> str | None:
    digits = "".join(ch for ch in spoken or "" if ch.isdigit())
    if not digits:
        return None
    # AMAZON.NUMBER drops leading zeros ("oh four eight..." arrives as 48...), and codes have six digits.
    return digits.zfill(6)


@intent("AMAZON.HelpIntent")
def help_(handler_input):
    return _ask(handler_input, speech.HELP, speech.HELP_REPROMPT)


@intent("AMAZON.FallbackIntent")
def fallback(handler_input):
    return _ask(handler_input, speech.FALLBACK, speech.FALLBACK_REPROMPT)


@intent("AMAZON.StopIntent", "AMAZON.CancelIntent")
def stop(handler_input):
    return _tell(handler_input, speech.GOODBYE)


@intent("AMAZON.NavigateHomeIntent")
def navigate_home(handler_input):
    # On screen devices "go home" leaves the skill; nothing needs saying.
    return handler_input.response_builder.set_should_end_session(True).response


@skill_builder.request_handler(can_handle_func=is_request_type("SessionEndedRequest"))
def session_ended(handler_input):
    request = handler_input.request_envelope.request
    if request.error is not None:
        log.warning("session ended with error: %s %s", request.error.object_type, request.error.message)
    # Alexa accepts no speech in answer to SessionEndedRequest.
    return handler_input.response_builder.response


# --- Notices: what changed for the person, said before the answer ---------------------------

# Requests that answer nothing a notice could go before, or that may come from someone not linked yet.
_NO_NOTICES = frozenset({"LinkAccount", "AMAZON.NavigateHomeIntent"})


@skill_builder.global_response_interceptor()
def tell_notices_first(handler_input, response):
    """At a linked person's next request, their unread notices ("Good news: you got a seat on the ski trip.") come
    first, then the answer. One more query per request (and the link's read, which signing up and cancelling make
    anyway); a write per notice read out."""
    request = handler_input.request_envelope.request
    if (
        response is None
        or response.output_speech is None
        or request.object_type not in ("IntentRequest", "LaunchRequest")
    ):
        return
    if request.object_type == "IntentRequest" and request.intent.name in _NO_NOTICES:
        return
    try:
        person = _person(handler_input)
        told = services.read_out_notices(person)
    except TurnoutError:
        return  # not linked, or the table is busy: the answer goes out alone and the notices stay unread
    except Exception:
        log.exception("could not read out notices")
        return
    if told and getattr(response.output_speech, "ssml", None):
        answer = response.output_speech.ssml
        response.output_speech.ssml = answer.replace("<speak>", f"<speak>{speech.notices([n.text for n in told])} ", 1)


# --- Errors: each family turned into speech once ---------------------------------------------

@skill_builder.exception_handler(can_handle_func=lambda handler_input, error: isinstance(error, NotLinked))
def not_linked(handler_input, error):
    handler_input.response_builder.set_card(SimpleCard(title=speech.NOT_LINKED_CARD_TITLE,
                                                       content=speech.NOT_LINKED_CARD))
    return _tell(handler_input, speech.NOT_LINKED)


@skill_builder.exception_handler(can_handle_func=lambda handler_input, error: isinstance(error, TurnoutError))
def domain_error(handler_input, error):
    log.info("domain error %s: %s", error.code, error.message)
    metrics.count(metrics.REFUSALS, error.code)
    return _tell(handler_input, speech.for_error(error))


# Every error but an unreadable envelope, which goes back to the caller: Lambda reports a failed invocation,
# the local gateway a 400.
@skill_builder.exception_handler(
    can_handle_func=lambda handler_input, error: not isinstance(error, SerializationException))
def unexpected(handler_input, error):
    # An envelope gets here only with a request in it: refuse_an_envelope_without_a_request runs first.
    request_type = handler_input.request_envelope.request.object_type
    log.exception("unexpected error answering %s", request_type)
    metrics.count(metrics.FAULTS)
    if request_type == "SessionEndedRequest":
        return handler_input.response_builder.response
    return _tell(handler_input, speech.APOLOGY)


_answer = skill_builder.lambda_handler()


def lambda_handler(event: object, context: object) -> dict:
    # Alexa always sends context.System (the skill, the user); a request without it is the caller's mistake,
    # refused as the SDK's serializer refuses a body it cannot read. Here, because the SDK's own skill id check
    # reads it before any interceptor runs (and an AttributeError there is a failed invocation, a 500 locally).
    if isinstance(event, dict) and event.get("request") and event.get("context") is None:
        raise SerializationException("Not an Alexa request envelope: it holds no context.")
    # Correlated by the Alexa request's id, which Alexa's own logs and the skill's developer console show too.
    with logs.correlated(_envelope_request_id(event)), metrics.flushed():
        return _answer(event, context)  # type: ignore[arg-type]  # ask-sdk-core: types Lambda's event dict as str


def _envelope_request_id(event: object) -> str | None:
    request = event.get("request") if isinstance(event, dict) else None
    found = request.get("requestId") if isinstance(request, dict) else None
    return found if isinstance(found, str) and len(found) <= 200 else None


startup.end()
