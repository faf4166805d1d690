"""Observability: Prometheus metrics, request ids in logs, liveness and readiness (docs/operations.md)."""
