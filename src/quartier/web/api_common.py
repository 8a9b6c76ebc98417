"""What the platform API's routers share: dependencies, path types, links."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict, field_validator

from quartier.access import Principal
from quartier.services.jobs import JobRunner
from quartier.web.context import AppContext
from quartier.web.deps import base_url, context, principal

Ctx = Annotated[AppContext, Depends(context)]
Caller = Annotated[Principal, Depends(principal)]
#: the largest integer both stores keep in an INTEGER column
MAX_INT = 2**31 - 1
SLUG = r"^[a-z][a-z0-9_]{0,47}$"
Slug = Annotated[
    str,
    Path(
        pattern=SLUG,
        description="Identifiant du jeu de données (dataset identifier)",
        examples=["batiments"],
    ),
]
OrgSlug = Annotated[
    str, Path(pattern=SLUG, description="Identifiant de l'organisation")
]
Username = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$", description="Nom d'utilisateur"),
]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INT, description="Numéro de version")]

_runner_lock = threading.Lock()


class Body(BaseModel):
    """A JSON request body: unknown members and NUL characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text: refuse it as bad input, not a 500
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("must not contain NUL characters")
        return value


def link(href: str, rel: str, type: str | None = None, title: str = "") -> dict:
    out = {"href": href, "rel": rel}
    if type:
        out["type"] = type
    if title:
        out["title"] = title
    return out


def root(request: Request) -> str:
    return base_url(request)


Base = Annotated[str, Depends(root)]


def jobs_of(ctx: AppContext) -> JobRunner:
    """The process's job runner, created on first use."""
    with _runner_lock:
        runner = ctx.extras.get("jobs")
        if runner is None:
            runner = ctx.extras["jobs"] = JobRunner()
        return runner


def stop_jobs(ctx: AppContext) -> None:
    runner = ctx.extras.pop("jobs", None)
    if runner is not None:
        runner.shutdown(wait=True)
