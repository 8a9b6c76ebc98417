"""Users, memberships, tokens, sessions, the change feed and webhooks.

A mixin of :class:`~quartier.storage.base.SqlStore`: the same SQLAlchemy Core
statements serve both stores. Secrets never reach this module; only hashes.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from quartier.domain.accounts import Role, Token, User
from quartier.errors import Conflict, NotFound
from quartier.storage import schema as s


class AccountsMixin:
    def _read(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    def _write(self) -> AbstractContextManager[sa.Connection]:
        raise NotImplementedError  # supplied by SqlStore

    # ------------------------------------------------------------------ users
    def add_user(
        self,
        username: str,
        *,
        password_hash: str | None,
        created: str,
        display_name: str = "",
        email: str = "",
        is_admin: bool = False,
    ) -> User:
        with self._write() as conn:
            exists = conn.execute(
                sa.select(s.users.c.username).where(s.users.c.username == username)
            ).first()
            if exists:
                raise Conflict(f"user {username!r} already exists")
            conn.execute(
                s.users.insert().values(
                    username=username,
                    display_name=display_name,
                    email=email,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    active=True,
                    created=created,
                )
            )
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(s.users).where(s.users.c.username == username))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"no user {username!r}")
            return self._user(conn, row)

    def list_users(self) -> list[User]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.users).order_by(s.users.c.username)
            ).mappings()
            return [self._user(conn, r) for r in list(rows)]

    def password_hash(self, username: str) -> str | None:
        """The stored argon2 hash (``None`` for an unknown or password-less user)."""
        with self._read() as conn:
            return conn.execute(
                sa.select(s.users.c.password_hash).where(
                    s.users.c.username == username, s.users.c.active.is_(True)
                )
            ).scalar()

    def update_user(self, username: str, **changes: Any) -> User:
        allowed = {"display_name", "email", "is_admin", "active", "password_hash"}
        unknown = set(changes) - allowed
        if unknown:
            raise Conflict(f"cannot change {', '.join(sorted(unknown))}")
        self.get_user(username)
        with self._write() as conn:
            conn.execute(
                s.users.update().where(s.users.c.username == username).values(**changes)
            )
        return self.get_user(username)

    @staticmethod
    def _user(conn: sa.Connection, row: Any) -> User:
        roles = conn.execute(
            sa.select(s.memberships.c.organisation, s.memberships.c.role).where(
                s.memberships.c.username == row["username"]
            )
        ).all()
        return User(
            username=row["username"],
            display_name=row["display_name"],
            email=row["email"],
            is_admin=bool(row["is_admin"]),
            active=bool(row["active"]),
            created=row["created"],
            roles={org: Role(role) for org, role in roles},
        )

    # ------------------------------------------------------------ memberships
    def grant(
        self, username: str, organisation: str, role: Role, *, created: str
    ) -> User:
        """Give ``username`` a role in ``organisation`` (replacing any other)."""
        self.get_user(username)
        with self._write() as conn:
            org = conn.execute(
                sa.select(s.organisations.c.slug).where(
                    s.organisations.c.slug == organisation
                )
            ).first()
            if org is None:
                raise NotFound(f"no organisation {organisation!r}")
            where = (s.memberships.c.username == username) & (
                s.memberships.c.organisation == organisation
            )
            conn.execute(s.memberships.delete().where(where))
            conn.execute(
                s.memberships.insert().values(
                    username=username,
                    organisation=organisation,
                    role=Role(role).value,
                    created=created,
                )
            )
        return self.get_user(username)

    def revoke_role(self, username: str, organisation: str) -> User:
        with self._write() as conn:
            conn.execute(
                s.memberships.delete().where(
                    (s.memberships.c.username == username)
                    & (s.memberships.c.organisation == organisation)
                )
            )
        return self.get_user(username)

    # ----------------------------------------------------------------- tokens
    def add_token(
        self,
        token: Token,
        *,
        secret_hash: str,
    ) -> Token:
        self.get_user(token.username)
        with self._write() as conn:
            conn.execute(
                s.tokens.insert().values(
                    id=token.id,
                    username=token.username,
                    name=token.name,
                    secret_hash=secret_hash,
                    created=token.created,
                    expires=token.expires,
                    scope=token.scope,
                )
            )
        return token

    def token_by_hash(self, secret_hash: str) -> Token | None:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.tokens).where(s.tokens.c.secret_hash == secret_hash)
                )
                .mappings()
                .first()
            )
        return None if row is None else _token(row)

    def list_tokens(self, username: str) -> list[Token]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.tokens)
                .where(s.tokens.c.username == username)
                .order_by(s.tokens.c.created)
            ).mappings()
            return [_token(r) for r in rows]

    def revoke_token(self, token_id: str, *, at: str) -> Token:
        with self._write() as conn:
            conn.execute(
                s.tokens.update()
                .where(s.tokens.c.id == token_id, s.tokens.c.revoked.is_(None))
                .values(revoked=at)
            )
            row = (
                conn.execute(sa.select(s.tokens).where(s.tokens.c.id == token_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        return _token(row)

    def touch_token(self, token_id: str, *, at: str) -> None:
        with self._write() as conn:
            conn.execute(
                s.tokens.update().where(s.tokens.c.id == token_id).values(last_used=at)
            )

    # --------------------------------------------------------------- sessions
    def add_session(
        self, id_hash: str, *, username: str, csrf: str, created: str, expires: str
    ) -> None:
        with self._write() as conn:
            conn.execute(
                s.sessions.insert().values(
                    id_hash=id_hash,
                    username=username,
                    csrf=csrf,
                    created=created,
                    expires=expires,
                )
            )

    def get_session(self, id_hash: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(s.sessions).where(s.sessions.c.id_hash == id_hash)
                )
                .mappings()
                .first()
            )
        return None if row is None else dict(row)

    def delete_session(self, id_hash: str) -> None:
        with self._write() as conn:
            conn.execute(s.sessions.delete().where(s.sessions.c.id_hash == id_hash))

    # ------------------------------------------------------------ change feed
    def list_changes(self, *, since: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Changes with ``seq > since``, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(s.changes)
                .where(s.changes.c.seq > since)
                .order_by(s.changes.c.seq)
                .limit(limit)
            ).mappings()
            return [dict(r, detail=json.loads(r["detail"])) for r in rows]

    def last_change_seq(self) -> int:
        """The newest ``seq`` of the change feed (0 when empty)."""
        with self._read() as conn:
            return int(
                conn.execute(sa.select(sa.func.max(s.changes.c.seq))).scalar() or 0
            )

    # ----------------------------------------------------------------- leases
    def try_lease(self, name: str, holder: str, *, seconds: float, at: float) -> bool:
        """Hold the lease ``name`` for ``seconds`` from ``at`` (epoch seconds) if
        it is free, expired or already ``holder``'s; True when held.

        Lets one process among several workers run a singleton job (webhook
        deliveries) without a lock server; the write transaction serialises
        competing claims on both stores.
        """
        key = f"lease:{name}"
        with self._write() as conn:
            query = sa.select(s.meta.c.value).where(s.meta.c.key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            current = conn.execute(query).scalar()
            if current is not None:
                owner, _, until = current.partition("|")
                if owner != holder and float(until) > at:
                    return False
                conn.execute(s.meta.delete().where(s.meta.c.key == key))
            conn.execute(
                s.meta.insert().values(key=key, value=f"{holder}|{at + seconds}")
            )
        return True

    @staticmethod
    def _record_change(
        conn: sa.Connection,
        *,
        at: str,
        dataset: str,
        version: int | None,
        kind: str,
        detail: dict | None = None,
    ) -> None:
        conn.execute(
            s.changes.insert().values(
                at=at,
                dataset=dataset,
                version=version,
                kind=kind,
                detail=json.dumps(detail or {}, default=str),
            )
        )

    # --------------------------------------------------------------- webhooks
    def add_webhook(
        self,
        *,
        username: str,
        url: str,
        secret: str,
        datasets: list[str],
        created: str,
        cursor: int = 0,
    ) -> dict[str, Any]:
        with self._write() as conn:
            result = conn.execute(
                s.webhooks.insert().values(
                    username=username,
                    url=url,
                    secret=secret,
                    datasets=json.dumps(datasets),
                    active=True,
                    cursor=cursor,
                    failures=0,
                    last_error="",
                    created=created,
                )
            )
            hook_id = result.inserted_primary_key[0]  # type: ignore[index]
        return self.get_webhook(int(hook_id))

    def get_webhook(self, hook_id: int) -> dict[str, Any]:
        with self._read() as conn:
            row = (
                conn.execute(sa.select(s.webhooks).where(s.webhooks.c.id == hook_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no webhook {hook_id}")
        return _hook(row)

    def list_webhooks(self, *, username: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(s.webhooks).order_by(s.webhooks.c.id)
        if username is not None:
            query = query.where(s.webhooks.c.username == username)
        with self._read() as conn:
            return [_hook(r) for r in conn.execute(query).mappings()]

    def update_webhook(self, hook_id: int, **changes: Any) -> dict[str, Any]:
        allowed = {"active", "cursor", "failures", "last_error", "url", "datasets"}
        if set(changes) - allowed:
            raise Conflict(f"cannot change {', '.join(sorted(set(changes) - allowed))}")
        if "datasets" in changes:
            changes["datasets"] = json.dumps(changes["datasets"])
        self.get_webhook(hook_id)
        with self._write() as conn:
            conn.execute(
                s.webhooks.update().where(s.webhooks.c.id == hook_id).values(**changes)
            )
        return self.get_webhook(hook_id)

    def delete_webhook(self, hook_id: int) -> None:
        self.get_webhook(hook_id)
        with self._write() as conn:
            conn.execute(s.webhooks.delete().where(s.webhooks.c.id == hook_id))

    # -------------------------------------------------------------- migration
    _ACCOUNT_TABLES = ("users", "memberships", "tokens", "webhooks")

    def dump_accounts(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of the account tables (hashes included), for migration."""
        with self._read() as conn:
            return {
                name: [
                    dict(r)
                    for r in conn.execute(sa.select(getattr(s, name))).mappings()
                ]
                for name in self._ACCOUNT_TABLES
            }

    def load_accounts(self, dump: dict[str, list[dict[str, Any]]]) -> None:
        """Insert rows from :meth:`dump_accounts`, in one transaction.

        Webhook cursors restart at the end of this store's change feed: the
        source's sequence numbers mean nothing here, and replaying history to
        subscribers would flood them.
        """
        with self._write() as conn:
            last = conn.execute(sa.select(sa.func.max(s.changes.c.seq))).scalar() or 0
            for name in self._ACCOUNT_TABLES:
                rows = dump.get(name, [])
                if name == "webhooks":
                    rows = [{k: v for k, v in r.items() if k != "id"} for r in rows]
                    rows = [dict(r, cursor=last) for r in rows]
                if rows:
                    conn.execute(getattr(s, name).insert(), rows)


def _token(row: Any) -> Token:
    return Token(
        id=row["id"],
        username=row["username"],
        name=row["name"],
        created=row["created"],
        expires=row["expires"],
        last_used=row["last_used"],
        revoked=row["revoked"],
        scope=row["scope"],
    )


def _hook(row: Any) -> dict[str, Any]:
    return dict(row, datasets=json.loads(row["datasets"]), active=bool(row["active"]))
