"""LeadSonar's error tree.

Every error that reaches a client is a :class:`LeadSonarError` carrying its HTTP status; the one
handler in :mod:`leadsonar.app` writes it as exactly ``{"error": "<sentence>"}`` (DESIGN.md §1).
Messages are written for the API's users: one plain sentence, no internals, no secrets.
"""

from __future__ import annotations


class LeadSonarError(Exception):
    """Base of every error LeadSonar reports.

    Args:
        message: one human sentence, safe to show to the caller.
        status_code: the HTTP status the API answers with (400, 401, 402, 404, 429, 500, …).
        headers: extra response headers (e.g. ``Retry-After``).
    """

    status_code: int = 500

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}


class BadRequest(LeadSonarError):
    """400: the request body or a parameter is not acceptable."""

    status_code = 400


class InvalidDomain(BadRequest):
    """400: a website/domain value cannot be a public internet domain."""


class InvalidApiKey(LeadSonarError):
    """401: the API key is missing, unknown or revoked."""

    status_code = 401


class InsufficientCredits(LeadSonarError):
    """402: the account's balance does not cover the cost; nothing was charged."""

    status_code = 402

    def __init__(self, needed: int, balance: int) -> None:
        super().__init__(
            f"Insufficient credits: this request needs {needed} credit"
            f"{'s' if needed != 1 else ''} and the balance is {balance}."
        )
        self.needed = needed
        self.balance = balance


class NotFound(LeadSonarError):
    """404: the route or resource does not exist (or belongs to another account)."""

    status_code = 404


class JobNotFound(NotFound):
    """404: no enrichment job with this id for this account."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"No enrichment job with id {job_id!r} was found.")


class RateLimited(LeadSonarError):
    """429: the API key sent more requests than ``LEADSONAR_RATE_LIMIT`` allows.

    Args:
        retry_after: whole seconds until a request would be accepted again (``Retry-After``).
    """

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            f"Rate limit exceeded: wait {retry_after} second{'s' if retry_after != 1 else ''} "
            "and retry.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class AddressNotAllowed(LeadSonarError):
    """A user-supplied host resolved to a private, loopback, link-local or otherwise non-global
    address outside ``LEADSONAR_ALLOWED_PRIVATE_NETWORKS``; no connection was made."""

    status_code = 400
