"""Idempotency-Key on every POST (Stripe; draft-ietf-httpapi-idempotency-key-header)."""
