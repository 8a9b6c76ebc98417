"""Users, passwords (argon2), API tokens and browser sessions."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from quartier.access import ANONYMOUS, Principal
from quartier.domain.accounts import (
    TOKEN_SCOPES,
    Role,
    Token,
    User,
    check_password,
    validate_username,
)
from quartier.errors import InvalidInput, NotFound, Unauthenticated
from quartier.storage.base import SqlStore, now

_hasher = PasswordHasher()
#: verified against when the user is unknown, so timing does not reveal names
_DUMMY_HASH = _hasher.hash("quartier-no-such-user")
TOKEN_PREFIX = "qt_"
SESSION_DAYS = 14


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def create_user(
    store: SqlStore,
    username: str,
    *,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    is_admin: bool = False,
    actor: Principal,
) -> User:
    name = validate_username(username)
    hashed = _hasher.hash(check_password(password)) if password else None
    user = store.add_user(
        name,
        password_hash=hashed,
        created=now(),
        display_name=display_name,
        email=email,
        is_admin=is_admin,
    )
    store.audit(actor=actor.label, action="user.add", target=name)
    return user


def set_password(store: SqlStore, username: str, password: str) -> None:
    store.update_user(username, password_hash=_hasher.hash(check_password(password)))


def authenticate(store: SqlStore, username: str, password: str) -> User:
    """The user whose password this is, or :class:`PermissionDenied`."""
    name = username.strip().lower()
    stored = store.password_hash(name)
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        if stored is None:
            raise VerificationError()
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong user name or password") from None
    if _hasher.check_needs_rehash(stored):
        store.update_user(name, password_hash=_hasher.hash(password))
    return store.get_user(name)


def grant_role(
    store: SqlStore, username: str, organisation: str, role: str, *, actor: Principal
) -> User:
    user = store.grant(username, organisation, Role.parse(role), created=now())
    store.audit(
        actor=actor.label,
        action="user.grant",
        target=username,
        detail={"organisation": organisation, "role": role},
    )
    return user


def principal_of(user: User, *, via: str, store: SqlStore | None = None) -> Principal:
    """Who ``user`` is to the authorisation layer; with ``store``, the
    datasets their organisations may read through agreements in force."""
    if not user.active:
        return ANONYMOUS
    grants: frozenset[str] = frozenset()
    if store is not None and user.roles:
        from quartier.services.agreements import grants_for

        grants = grants_for(store, user.roles)
    return Principal(
        username=user.username,
        is_admin=user.is_admin,
        roles=user.roles,
        via=via,
        grants=grants,
    )


# ----------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class IssuedToken:
    token: Token
    #: shown once; only its hash is stored
    secret: str


def issue_token(
    store: SqlStore,
    username: str,
    *,
    name: str = "",
    days: int | None = None,
    scope: str = "api",
    actor: Principal,
) -> IssuedToken:
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(f"scope {scope!r}: use one of {', '.join(TOKEN_SCOPES)}")
    store.get_user(username)
    token_id = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    expires = _stamp(datetime.now(UTC) + timedelta(days=days)) if days else None
    token = Token(
        id=token_id,
        username=username,
        name=name,
        created=now(),
        expires=expires,
        scope=scope,
    )
    store.add_token(token, secret_hash=_sha256(secret))
    store.audit(
        actor=actor.label,
        action="token.issue",
        target=username,
        detail={"token": token_id, "name": name, "scope": scope},
    )
    return IssuedToken(token, secret)


def revoke_token(store: SqlStore, token_id: str, *, actor: Principal) -> Token:
    token = store.revoke_token(token_id, at=now())
    store.audit(
        actor=actor.label,
        action="token.revoke",
        target=token.username,
        detail={"token": token_id},
    )
    return token


def principal_from_token(
    store: SqlStore, secret: str, *, scope: str = "api"
) -> Principal:
    """The caller a token stands for, where a token of ``scope`` is expected;
    :class:`Unauthenticated` if invalid or of the other scope."""
    token = store.token_by_hash(_sha256(secret.strip()))
    if token is None or token.revoked:
        raise Unauthenticated("invalid or revoked API token")
    if token.scope != scope:
        raise Unauthenticated(
            "this is an ODK Collect token: it works only in the Collect server URL"
            if token.scope == "collect"
            else "this API token does not work in a Collect URL: issue a collect token"
        )
    if token.expires and token.expires < now():
        raise Unauthenticated("expired API token")
    # last use at most once an hour: a write per request would serialise readers
    stamp = now()
    if not token.last_used or token.last_used[:13] != stamp[:13]:
        store.touch_token(token.id, at=stamp)
    return principal_of(store.get_user(token.username), via="token", store=store)


# --------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class Session:
    cookie: str
    csrf: str
    username: str


def start_session(store: SqlStore, user: User) -> Session:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = _stamp(datetime.now(UTC) + timedelta(days=SESSION_DAYS))
    store.add_session(
        _sha256(cookie),
        username=user.username,
        csrf=csrf,
        created=now(),
        expires=expires,
    )
    return Session(cookie, csrf, user.username)


def session_of(store: SqlStore, cookie: str) -> Session | None:
    row = store.get_session(_sha256(cookie))
    if row is None or row["expires"] < now():
        return None
    return Session(cookie, row["csrf"], row["username"])


def principal_from_session(store: SqlStore, session: Session) -> Principal:
    try:
        return principal_of(
            store.get_user(session.username), via="session", store=store
        )
    except NotFound:
        return ANONYMOUS


def csrf_ok(session: Session, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf, presented)


def end_session(store: SqlStore, cookie: str) -> None:
    store.delete_session(_sha256(cookie))
