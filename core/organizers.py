"""Core: who organizes - the organizers group of the people's user pool, changed and read through Cognito's admin
API (in AWS the stack's pool; locally the stack's OpenID provider answers the same calls)."""
from __future__ import annotations

from typing import Any

from core import config, errors

_client: Any = None


class OrganizersElsewhere(errors.Conflict):
    def __init__(self) -> None:
        super().__init__("Organizers are made at this Turnout's own identity provider, not here.")


class NoSuchAccount(errors.NotFound):
    def __init__(self, person: str) -> None:
        super().__init__(f"Nobody has signed up as {person!r} yet: they make their account first.", person=person)


def _idp() -> Any:
    # Built on first use: changing organizers is rare, and no cold start should load Cognito's client.
    global _client
    if config.settings.user_pool_id is None:  # read per call, as the API reads its settings
        raise OrganizersElsewhere()
    if _client is None:
        from core.aws import client
        _client = client("cognito-idp")
    return _client


def _group_call(operation: str, person: str) -> None:
    from botocore.exceptions import ClientError

    try:
        getattr(_idp(), operation)(UserPoolId=config.settings.user_pool_id, Username=person,
                                    GroupName=config.settings.organizer_group)
    except ClientError as err:
        if err.response["Error"]["Code"] == "UserNotFoundException":
            raise NoSuchAccount(person) from None
        raise


def make_organizer(person: str) -> None:
    _group_call("admin_add_user_to_group", person)


def unmake_organizer(person: str) -> None:
    _group_call("admin_remove_user_from_group", person)


def list_organizers() -> list[str]:
    names: list[str] = []
    for page in _idp().get_paginator("list_users_in_group").paginate(UserPoolId=config.settings.user_pool_id,
                                                                      GroupName=config.settings.organizer_group):
        names += [user["Username"] for user in page["Users"]]
    return sorted(names)
