"""Shared primitives, one home each; nothing here imports a domain package (except `idempotency`, on its table)."""

__all__ = [  # the public modules
    "codes", "documents", "encoding", "errors", "events", "i18n", "idempotency", "images", "messages", "once",
    "ratelimit", "text", "times",
]
