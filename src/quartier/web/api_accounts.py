"""``/api/organisations``, ``/api/users`` (and their roles), ``/api/tokens``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import Field

from quartier import access
from quartier.domain import ActorKind, Organisation
from quartier.domain.accounts import Role, Token, User
from quartier.errors import NotFound
from quartier.services import accounts
from quartier.storage.base import now
from quartier.web.api_common import (
    SLUG,
    Base,
    Body,
    Caller,
    Ctx,
    OrgSlug,
    Username,
    link,
)
from quartier.web.deps import base_url
from quartier.web.responses import JSONResponse

router = APIRouter(
    prefix="/api",
    tags=["Organisations et comptes"],
    default_response_class=JSONResponse,
)
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,64}$", description="Jeton")]


# ----------------------------------------------------------- organisations
class OrganisationIn(Body):
    slug: str = Field(pattern=SLUG, description="Identifiant")
    name: str = Field(min_length=1, max_length=300)
    kind: ActorKind
    description: str = Field("", max_length=5000)
    website: str = Field(
        "", max_length=500, pattern=r"^(https?://\S+)?$", description="http(s) URL"
    )


@router.get("/organisations")
def list_organisations(ctx: Ctx, base: Base) -> dict[str, Any]:
    """The organisations of the platform (public: they publish the data)."""
    return {"organisations": [_org(o, base) for o in ctx.store.list_organisations()]}


@router.get("/organisations/{slug}")
def get_organisation(
    slug: OrgSlug, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """One organisation, with the datasets it produces or stewards that you see."""
    org = _org(ctx.store.get_organisation(slug), base)
    org["datasets"] = [
        {"slug": ds.slug, "title": ds.title, "role": _role_of(ds, slug)}
        for ds in access.readable(who, ctx.store.list_datasets())
        if slug in (ds.producer, ds.steward)
    ]
    return org


@router.post("/organisations", status_code=201)
def add_organisation(
    body: OrganisationIn, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """Create an organisation (platform administrators)."""
    access.require_manage(access.require_signed_in(who))
    org = ctx.store.add_organisation(
        Organisation(body.slug, body.name, body.kind, body.description, body.website),
        created=now(),
    )
    ctx.store.audit(actor=who.label, action="organisation.add", target=org.slug)
    return _org(org, base)


def _org(org: Organisation, base: str) -> dict[str, Any]:
    return {
        "slug": org.slug,
        "name": org.name,
        "kind": org.kind.value,
        "description": org.description,
        "website": org.website,
        "links": [link(f"{base}/api/organisations/{org.slug}", "self")],
    }


def _role_of(ds: Any, slug: str) -> str:
    return "producer" if ds.producer == slug else "steward"


# ------------------------------------------------------------------- users
class UserIn(Body):
    username: str = Field(min_length=2, max_length=63)
    password: str | None = Field(None, max_length=1000)
    display_name: str = Field("", max_length=300)
    email: str = Field("", max_length=300)
    is_admin: bool = False


class RoleIn(Body):
    role: Role


@router.get("/users")
def list_users(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Everyone (administrators) or the members of the organisations you
    administer, with their roles there."""
    p = access.require_signed_in(who)
    managed = {org for org in p.roles if access.can_manage(p, org)}
    if not p.is_admin and not managed:
        access.require_manage(p)  # raises: nothing to show
    users = []
    for user in ctx.store.list_users():
        view = _user(user, None if p.is_admin else managed)
        if p.is_admin or view["roles"]:
            users.append(view)
    return {"users": users}


@router.post("/users", status_code=201)
def add_user(body: UserIn, ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Create a user (platform administrators)."""
    access.require_manage(access.require_signed_in(who))
    user = accounts.create_user(
        ctx.store,
        body.username,
        password=body.password or None,
        display_name=body.display_name,
        email=body.email,
        is_admin=body.is_admin,
        actor=who,
    )
    return _user(user)


@router.put("/users/{username}/roles/{org}")
def grant(
    username: Username, org: OrgSlug, body: RoleIn, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """Give a user a role in an organisation (replacing any other there)."""
    access.require_manage(access.require_signed_in(who), org)
    user = accounts.grant_role(
        ctx.store, username.lower(), org, body.role.value, actor=who
    )
    return _user(user, None if who.is_admin else {org})


@router.delete("/users/{username}/roles/{org}", status_code=204)
def revoke(username: Username, org: OrgSlug, ctx: Ctx, who: Caller) -> None:
    """Take away a user's role in an organisation."""
    access.require_manage(access.require_signed_in(who), org)
    name = username.lower()
    if org not in ctx.store.get_user(name).roles:
        raise NotFound(f"{name!r} has no role in {org!r}")
    ctx.store.revoke_role(name, org)
    ctx.store.audit(
        actor=who.label, action="user.revoke", target=name, detail={"organisation": org}
    )


def _user(user: User, orgs: set[str] | None = None) -> dict[str, Any]:
    """A user; with ``orgs``, only their roles in those organisations."""
    roles = {o: r.value for o, r in user.roles.items() if orgs is None or o in orgs}
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "is_admin": user.is_admin,
        "active": user.active,
        "created": user.created,
        "roles": roles,
    }


# ------------------------------------------------------------------ tokens
class TokenIn(Body):
    name: str = Field("", max_length=100)
    days: int | None = Field(None, ge=1, le=3650, description="Durée de validité")
    scope: Literal["api", "collect"] = Field(
        "api",
        description="api : en-tête Bearer ; collect : seulement dans l'adresse "
        "de serveur d'ODK Collect (/openrosa/key/…)",
    )


@router.get("/tokens")
def list_tokens(ctx: Ctx, who: Caller) -> dict[str, Any]:
    """Your API tokens (never their secrets)."""
    p = access.require_signed_in(who)
    return {"tokens": [_token(t) for t in ctx.store.list_tokens(p.label)]}


@router.post("/tokens", status_code=201)
def issue_token(
    body: TokenIn, request: Request, ctx: Ctx, who: Caller
) -> dict[str, Any]:
    """A new token for yourself: its secret is in this answer, and only here."""
    p = access.require_signed_in(who)
    issued = accounts.issue_token(
        ctx.store, p.label, name=body.name, days=body.days, scope=body.scope, actor=p
    )
    if body.scope == "collect":
        url = f"{base_url(request)}/openrosa/key/{issued.secret}"
        return _token(issued.token) | {"secret": issued.secret, "collect_url": url}
    return _token(issued.token) | {"secret": issued.secret}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: TokenId, ctx: Ctx, who: Caller) -> None:
    """Revoke one of your tokens (administrators: anyone's)."""
    p = access.require_signed_in(who)
    if not p.is_admin and token_id not in {
        t.id for t in ctx.store.list_tokens(p.label)
    }:
        raise NotFound(f"no token {token_id!r}")
    accounts.revoke_token(ctx.store, token_id, actor=p)


def _token(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created": token.created,
        "expires": token.expires,
        "last_used": token.last_used,
        "revoked": token.revoked,
        "scope": token.scope,
    }
