"""Domain errors. They know nothing about HTTP; the web layer maps them once."""


class QuartierError(Exception):
    """Base class for every error Quartier reports to a user."""


class NotFound(QuartierError):
    """A named thing (dataset, version, organisation…) does not exist."""


class Conflict(QuartierError):
    """The request contradicts the current state (duplicate slug, stale version…)."""


class StaleVersion(Conflict):
    """A dataset gained a version since the caller read it (retry on the new one)."""


class InvalidInput(QuartierError):
    """Input (a file, a field, a parameter) is malformed; nothing was changed."""


class PermissionDenied(QuartierError):
    """The caller may not see or change this."""


class Unauthenticated(PermissionDenied):
    """The caller must identify (sign in, or send a valid API token)."""


class TooManyAttempts(PermissionDenied):
    """Too many failed attempts (passwords): wait before trying again."""


class TooLarge(InvalidInput):
    """An upload or a request exceeds a configured limit."""


class RateLimited(TooManyAttempts):
    """Too many requests from one client: ``retry_after`` seconds to wait."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
