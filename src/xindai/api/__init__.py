"""The HTTP API (FastAPI): the borrower API and the admin API, versioned under /api/v1, with
authentication, RBAC, audit, idempotency keys and JSON errors. Nothing imports this package.
"""
