"""Local stack, the first organizer: `python -m local.organizer PERSON` adds PERSON's account to the organizers group
through Cognito's admin API, which the local provider answers - the same call as `aws cognito-idp
admin-add-user-to-group` against the stack's user pool in AWS (docs/DEPLOY.md)."""
from __future__ import annotations

import argparse
import sys

from local.stack import StackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.organizer", description=(
        "Make PERSON (an account made on the sign-up page) an organizer of the running local stack; after that, "
        "organizers make others organizers from the page."))
    parser.add_argument("person", help="the account's user name, e.g. melvin")
    parser.add_argument("--remove", action="store_true", help="stop PERSON being an organizer instead")
    args = parser.parse_args(argv)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from core.config import settings
    from local.provider import POOL_ID

    stack = StackSettings.from_environ()
    idp = boto3.client("cognito-idp", endpoint_url=f"http://127.0.0.1:{stack.auth_port}", region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    call = idp.admin_remove_user_from_group if args.remove else idp.admin_add_user_to_group
    try:
        call(UserPoolId=POOL_ID, Username=args.person, GroupName=settings.organizer_group)
    except ClientError as err:
        print(f"turnout: {err.response['Error']['Message']} ({err.response['Error']['Code']})", file=sys.stderr)
        return 1
    except BotoCoreError as err:
        print(f"turnout: is the stack running with TURNOUT_AUTH=on? {err}", file=sys.stderr)
        return 1
    print(f"{args.person} is {'no longer' if args.remove else 'now'} an organizer (from their next sign-in or refresh)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
