"""Local stack, accounts: the people the local OpenID provider signs in, kept in the data folder as Cognito keeps them
in the stack's user pool - a handle for a user name, a confirmed email address, a password hash, groups."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.validation import HANDLE
from deploy.template import load_template

ACCOUNTS_FILE = "accounts.json"
# scrypt's interactive parameters (RFC 7914): 16 MiB of memory a check (128 * r * n bytes), slow enough to make
# guessing dear and quick enough for a sign-in (docs/SCALING.md, "What the local stack's settings stand on").
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AccountError(Exception):
    """A sign-up, confirmation or sign-in the provider refuses; `code` is the name Cognito's API gives the same case."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Account:
    username: str
    email: str
    password: str  # "scrypt$<salt hex>$<hash hex>"
    sub: str = field(default_factory=lambda: str(uuid.uuid4()))
    confirmed: bool = False
    code: str | None = None  # the confirmation code "mailed" (logged) at sign-up
    groups: list[str] = field(default_factory=list)


def password_policy() -> dict:
    """The user pool's password policy, read from template.yaml: the local provider asks what Cognito asks."""
    return load_template()["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]


def check_password(password: str, policy: dict | None = None) -> None:
    policy = password_policy() if policy is None else policy
    wanted = [(policy.get("RequireLowercase"), str.islower, "a lowercase letter"),
              (policy.get("RequireUppercase"), str.isupper, "an uppercase letter"),
              (policy.get("RequireNumbers"), str.isdigit, "a digit")]
    if len(password) < int(policy["MinimumLength"]):
        raise AccountError("InvalidPasswordException",
                           f"The password needs at least {policy['MinimumLength']} characters.")
    for required, test, what in wanted:
        if required and not any(test(character) for character in password):
            raise AccountError("InvalidPasswordException", f"The password needs {what}.")


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${salt.hex()}${_hash(password, salt).hex()}"


def password_matches(stored: str, password: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(_hash(password, bytes.fromhex(salt)).hex(), digest)


class Accounts:
    """The accounts of one data folder, saved on every change (a file small enough to rewrite whole)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / ACCOUNTS_FILE
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        if self.path.exists():
            self._accounts = {name: Account(**fields) for name, fields in json.loads(self.path.read_text()).items()}

    def get(self, username: str) -> Account | None:
        with self._lock:
            return self._accounts.get(username)

    def sign_up(self, username: str, email: str, password: str) -> Account:
        """A new, unconfirmed account; its confirmation code is on the account (Cognito mails it)."""
        if not HANDLE.fullmatch(username):
            # What Cognito's pre-sign-up trigger (accounts/handler.py) answers.
            from accounts.handler import NOT_A_HANDLE
            raise AccountError("UserLambdaValidationException", NOT_A_HANDLE)
        if "@" not in email.strip()[1:-1]:
            raise AccountError("InvalidParameterException", "Give the email address you will confirm.")
        check_password(password)
        with self._lock:
            if username in self._accounts:
                raise AccountError("UsernameExistsException", "That user name is taken: choose another.")
            account = Account(username, email.strip(), hash_password(password), code=f"{secrets.randbelow(10**6):06d}")
            self._accounts[username] = account
            self._save()
        return account

    def confirm(self, username: str, code: str) -> Account:
        with self._lock:
            account = self._accounts.get(username)
            if account is None or account.code is None or not hmac.compare_digest(account.code, code.strip()):
                raise AccountError("CodeMismatchException", "That code is not the one we sent. Check it and try again.")
            account.confirmed, account.code = True, None
            self._save()
            return account

    def sign_in(self, username: str, password: str) -> Account:
        account = self.get(username.strip().lower())
        if account is None or not password_matches(account.password, password):
            raise AccountError("NotAuthorizedException", "Incorrect user name or password.")
        if not account.confirmed:
            raise AccountError("UserNotConfirmedException", "Confirm your email address first.")
        return account

    def set_group(self, username: str, group: str, member: bool) -> None:
        with self._lock:
            account = self._accounts.get(username)
            if account is None:
                raise AccountError("UserNotFoundException", "User does not exist.")
            groups = set(account.groups) | {group} if member else set(account.groups) - {group}
            account.groups = sorted(groups)
            self._save()

    def members(self, group: str) -> list[Account]:
        with self._lock:
            return [account for account in self._accounts.values() if group in account.groups]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        draft = self.path.with_name(f".{ACCOUNTS_FILE}.{os.getpid()}")
        draft.write_text(json.dumps({name: asdict(account) for name, account in self._accounts.items()}, indent=1))
        os.chmod(draft, 0o600)
        draft.replace(self.path)
