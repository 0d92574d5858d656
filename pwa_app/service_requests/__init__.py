"""Service requests (solicitudes): the rules (workflow, limits, working days), what citizens send (`intake`),
what departments do (`workflow`) and how both read them (`views`). Records "request_*" events."""

__all__ = ["intake", "rules", "views", "workflow"]  # the public modules; the rest is theirs
