"""Local stack, tokens: `python -m local.token PERSON [--organizer]` prints a bearer token the local gateway accepts
under TURNOUT_AUTH=on, signed with the stack's key in TURNOUT_DATA_DIR and naming the person as the API reads it."""
from __future__ import annotations

import argparse
import sys

from local.authorizer import TOKEN_MINUTES, mint, person_claims, signing_key
from local.stack import StackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=(
        "Print a token for PERSON that the local stack accepts when started with TURNOUT_AUTH=on: "
        'curl -H "Authorization: Bearer $(python -m local.token melvin)" ...'))
    parser.add_argument("person", help="the person handle the token speaks for, e.g. melvin")
    parser.add_argument("--organizer", action="store_true", help="also in the organizers group")
    parser.add_argument("--minutes", type=float, default=TOKEN_MINUTES, help=f"lifetime (default {TOKEN_MINUTES})")
    args = parser.parse_args(argv)
    from core.config import settings
    from core.validation import HANDLE

    if not HANDLE.fullmatch(args.person):
        parser.error(f"{args.person!r} is not a handle: 1 to 40 lowercase letters, digits and '-'")
    claims = person_claims(args.person, organizer=args.organizer, person_claim=settings.person_claim,
                           group_claim=settings.group_claim, organizer_group=settings.organizer_group)
    print(mint(signing_key(StackSettings.from_environ().data_dir), claims, minutes=args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
