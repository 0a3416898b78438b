"""Unit tests keeping skill-package/ (what Alexa hears) and skills/handler.py (what answers) in step."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skills import speech
from skills.handler import INTENT_SLOTS

PACKAGE = Path(__file__).resolve().parents[2] / "skill-package"
MODEL = json.loads((PACKAGE / "interactionModels" / "custom" / "en-US.json").read_text())["interactionModel"]
LANGUAGE = MODEL["languageModel"]
INTENTS = {intent["name"]: intent for intent in LANGUAGE["intents"]}
CUSTOM = sorted(name for name in INTENTS if not name.startswith("AMAZON."))
REQUIRED_BUILT_INS = {"AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.CancelIntent",
                      "AMAZON.FallbackIntent", "AMAZON.NavigateHomeIntent"}
# Built-in slot types this model may use; AMAZON.FOUR_DIGIT_NUMBER cannot hold a six-digit code.
BUILT_IN_TYPES = {"AMAZON.NUMBER", "AMAZON.SearchQuery", "AMAZON.DATE"}


def slots_of(intent_name: str) -> dict[str, dict]:
    return {slot["name"]: slot for slot in INTENTS[intent_name].get("slots", [])}


def test_the_package_has_the_layout_ask_cli_expects():
    manifest = json.loads((PACKAGE / "skill.json").read_text())["manifest"]
    assert "custom" in manifest["apis"]
    assert "en-US" in manifest["publishingInformation"]["locales"]
    assert LANGUAGE["invocationName"] == "turnout"


def test_every_intent_in_the_model_is_handled():
    assert set(INTENTS) - set(INTENT_SLOTS) == set()


def test_every_handled_intent_is_in_the_model():
    assert set(INTENT_SLOTS) - set(INTENTS) == set()


def test_the_required_built_in_intents_are_there():
    assert REQUIRED_BUILT_INS <= set(INTENTS)


@pytest.mark.parametrize("intent_name", sorted(INTENT_SLOTS))
def test_every_slot_a_handler_reads_exists_in_its_intent(intent_name):
    assert set(INTENT_SLOTS[intent_name]) <= set(slots_of(intent_name))


@pytest.mark.parametrize("intent_name", CUSTOM)
def test_custom_intents_have_enough_samples_and_only_declared_slots(intent_name):
    samples = INTENTS[intent_name]["samples"]
    assert len(samples) >= 8
    used = {name for sample in samples for name in re.findall(r"\{(\w+)\}", sample)}
    assert used <= set(slots_of(intent_name))
    for sample in samples:
        # Alexa refuses punctuation in samples except apostrophes and periods.
        assert re.fullmatch(r"[a-zA-Z' {}]+", sample), sample
    # A slot the samples never fill is never filled.
    assert set(slots_of(intent_name)) <= used


def test_no_sample_is_claimed_by_two_intents():
    seen: dict[str, str] = {}
    for name, intent in INTENTS.items():
        for sample in intent["samples"]:
            key = sample.lower()
            assert seen.setdefault(key, name) == name, f"{sample!r} in {seen[key]} and {name}"


def test_every_slot_type_is_built_in_or_defined():
    defined = {slot_type["name"] for slot_type in LANGUAGE.get("types", [])}
    for name in INTENTS:
        for slot in slots_of(name).values():
            assert slot["type"] in BUILT_IN_TYPES | defined, slot
    assert slots_of("LinkAccount")["code"]["type"] == "AMAZON.NUMBER"


def test_the_dialog_model_matches_the_language_model_and_speaks_speech_py():
    prompts = {prompt["id"]: prompt for prompt in MODEL["prompts"]}
    for intent in MODEL["dialog"]["intents"]:
        declared = slots_of(intent["name"])
        for slot in intent["slots"]:
            assert declared[slot["name"]]["type"] == slot["type"]
            for prompt_id in slot["prompts"].values():
                for variation in prompts[prompt_id]["variations"]:
                    # The prompts are never spoken (the skill answers every turn), but stay in step anyway.
                    assert variation["value"] in {speech.WHICH_REPROMPT, speech.ASK_CODE}
    # The skill elicits these slots itself when it must ask (ElicitSlot needs a dialog model).
    elicited = {(i["name"], s["name"]) for i in MODEL["dialog"]["intents"] for s in i["slots"]}
    assert ("LinkAccount", "code") in elicited
    assert {(name, "event") for name, slots in INTENT_SLOTS.items() if "event" in slots} <= elicited
    assert MODEL["dialog"]["delegationStrategy"] == "SKILL_RESPONSE"
