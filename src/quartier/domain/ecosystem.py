"""The city's data ecosystem: what each organisation can do and produce, and
partners' requests for access to restricted datasets.

An organisation *holds* the datasets it produces or stewards (the catalogue
says so). It may also declare **capacities** (free text: "drone survey",
"field enumerators"), datasets it **produces** or **could produce** (an entry
of the reference list of essential datasets, or a free-text name), and
restricted datasets it offers **on request** (a dataset slug: its title and
holder are then listed to everyone, never its data).

An **access request** goes pending → approved / refused / withdrawn, once:
the decision (who, when, why) is written once and never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quartier.domain.agreements import check_period
from quartier.errors import Conflict, InvalidInput

_TEXT_MAX = 2000


class CapacityKind(StrEnum):
    CAPACITY = "capacity"
    PRODUCES = "produces"
    COULD_PRODUCE = "could_produce"
    ON_REQUEST = "on_request"

    @classmethod
    def parse(cls, value: str) -> CapacityKind:
        try:
            return cls(value.strip().lower().replace("-", "_"))
        except ValueError:
            allowed = ", ".join(k.value for k in cls)
            raise InvalidInput(
                f"kind: unknown {value!r}; expected one of: {allowed}"
            ) from None


@dataclass(frozen=True)
class Capacity:
    """One declaration of an organisation."""

    id: int
    organisation: str
    kind: CapacityKind
    #: a reference entry key (produces/could produce) or a dataset slug
    #: (on request); empty for a free-text capacity or dataset name
    ref: str = ""
    label: str = ""
    note: str = ""
    created: str = ""
    author: str = ""


def check_capacity(c: Capacity, reference_keys: frozenset[str]) -> Capacity:
    """Refuse a declaration that says nothing, naming the field."""
    label, ref = c.label.strip(), c.ref.strip()
    if len(label) > 200 or len(c.note) > _TEXT_MAX:
        raise InvalidInput("label: 200 characters at most; note: 2000")
    if c.kind is CapacityKind.CAPACITY:
        if not label:
            raise InvalidInput("label: describe the capacity (e.g. 'drone survey')")
        if ref:
            raise InvalidInput("ref: a capacity is free text, it names no entry")
    elif c.kind is CapacityKind.ON_REQUEST:
        if not ref:
            raise InvalidInput("ref: name the dataset offered on request")
    else:
        if not ref and not label:
            raise InvalidInput("ref: name an essential-dataset entry, or give a label")
        if ref and ref not in reference_keys:
            raise InvalidInput(f"ref: no essential-dataset entry {ref!r}")
    return c


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class AccessRequest:
    id: int
    dataset: str
    #: the user who asks, and the organisation they ask for
    requester: str
    organisation: str
    purpose: str
    starts: str  # ISO date: the wished period
    ends: str
    status: RequestStatus = RequestStatus.PENDING
    created: str = ""
    decided_by: str = ""
    decided_at: str = ""
    reason: str = ""
    agreement: str = ""


def check_request(r: AccessRequest) -> AccessRequest:
    if not r.purpose.strip():
        raise InvalidInput("purpose: say what the data is needed for")
    if len(r.purpose) > _TEXT_MAX:
        raise InvalidInput("purpose: 2000 characters at most")
    check_period(r.starts, r.ends)
    return r


def check_decision(r: AccessRequest, status: RequestStatus, reason: str) -> None:
    """May ``r`` move to ``status``? Only a pending request moves, once;
    a refusal says why."""
    if status is RequestStatus.PENDING:
        raise InvalidInput("status: a decision approves, refuses or withdraws")
    if r.status is not RequestStatus.PENDING:
        raise Conflict(
            f"access request {r.id} is already {r.status.value}: "
            "a decision is taken once"
        )
    if status is RequestStatus.REFUSED and not reason.strip():
        raise InvalidInput("reason: say why the request is refused")
    if len(reason) > _TEXT_MAX:
        raise InvalidInput("reason: 2000 characters at most")


def agreement_id(request_id: int) -> str:
    """The agreement an approved request creates (one per request)."""
    return f"demande-{request_id}"
