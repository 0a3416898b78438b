"""Accounts edge: Cognito's pre-sign-up trigger - a new account's user name must be a person handle, or no account."""
from __future__ import annotations

from core.validation import HANDLE

# Cognito shows this to the person on its sign-up page, after "PreSignUp failed with error".
NOT_A_HANDLE = ("Choose a user name of 1 to 40 lowercase letters, digits and '-' (not at either end), like melvin "
                "or anna-b: it is how Turnout names you.")


class NotAHandle(Exception):
    """Raised to Cognito, which refuses the sign-up with this message."""


def lambda_handler(event: dict, context: object) -> dict:
    # Every sign-up comes through here: the hosted pages, the SignUp API, and an administrator's AdminCreateUser.
    if not HANDLE.fullmatch(event.get("userName") or ""):
        raise NotAHandle(NOT_A_HANDLE)
    return event
