"""Operations: liveness, readiness and Prometheus metrics (docs/operations.md)."""
