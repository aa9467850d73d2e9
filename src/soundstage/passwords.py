"""Passwords and bearer secrets of the review room, with no web framework in sight, so the CLI
sets passwords and issues API tokens without importing FastAPI.

Passwords are hashed with argon2id (argon2-cffi's defaults). Tokens (API tokens, session cookies,
client links) are random; only their sha256 is stored, so a copy of the database opens nothing.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from soundstage.errors import ReviewError

MIN_PASSWORD = 8
MAX_PASSWORD = 256

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when a name is unknown, so a wrong name costs as long as a wrong password and the
    answer's timing does not tell which names exist. Made on first use: hashing takes tens of
    milliseconds, which every command would pay at import otherwise."""
    return _hasher.hash("not a password of anyone")


def hash_password(password: str, *, who: str) -> str:
    """The argon2 hash of a new password; ReviewError when it is too short or too long."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD or "\x00" in password:
        raise ReviewError(f"password for {who}: {MIN_PASSWORD}-{MAX_PASSWORD} characters, no NUL")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; an empty hash (no web login) never does."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A new random secret for a cookie, an API token or a client link (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a token: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
