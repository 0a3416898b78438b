"""Local stack, tokens for curl: `python -m local.token PERSON` prints an access token as the local OpenID provider
issues it to PERSON (its key and the person's groups from TURNOUT_DATA_DIR, its issuer on TURNOUT_AUTH_PORT)."""
from __future__ import annotations

import argparse
import sys

from local.stack import StackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=(
        "Print a token for PERSON that the local stack accepts when started with TURNOUT_AUTH=on, as its sign-in "
        'would issue it: curl -H "Authorization: Bearer $(python -m local.token melvin)" ...'))
    parser.add_argument("person", help="the person handle the token speaks for, e.g. melvin")
    parser.add_argument("--organizer", action="store_true",
                        help="also in the organizers group, whether or not the account is (for trying things out)")
    parser.add_argument("--minutes", type=float, help="lifetime (default TURNOUT_AUTH_TOKEN_MINUTES)")
    args = parser.parse_args(argv)
    from core.config import settings
    from core.validation import HANDLE
    from local.accounts import Accounts
    from local.authorizer import signing_key
    from local.provider import access_token

    if not HANDLE.fullmatch(args.person):
        parser.error(f"{args.person!r} is not a handle: 1 to 40 lowercase letters, digits and '-'")
    stack = StackSettings.from_environ()
    account = Accounts(stack.data_dir).get(args.person)
    groups = set(account.groups if account else ()) | ({settings.organizer_group} if args.organizer else set())
    print(access_token(signing_key(stack.data_dir), issuer=f"http://127.0.0.1:{stack.auth_port}",
                       username=args.person, groups=sorted(groups), person_claim=settings.person_claim,
                       group_claim=settings.group_claim,
                       minutes=stack.token_minutes if args.minutes is None else args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
