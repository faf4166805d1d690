"""Password hashing with Argon2id (argon2-cffi defaults: RFC 9106 low-memory profile)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 1024

# verified against when the user does not exist, so a miss costs as much as a wrong password
_DUMMY_HASH = _hasher.hash("fleetlight-dummy-password-for-timing")


class WeakPassword(ValueError):
    """Raised when a new password does not meet the policy; the message says why."""


def check_policy(password: str) -> None:
    """Raise WeakPassword unless ``password`` has 12 to 1024 characters and is not all one kind."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password must have at most {MAX_LENGTH} characters")
    if len(set(password)) < 5:
        raise WeakPassword("password must use at least 5 different characters")


def hash_password(password: str) -> str:
    """Return the Argon2id hash (PHC string) of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return True if ``password`` matches ``password_hash`` (constant work when the hash is None)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return True if ``password_hash`` was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
