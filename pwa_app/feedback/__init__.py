"""Citizen feedback: the survey after an appointment or a service request, and the suggestion box."""

__all__ = ["surveys"]  # the public modules; the rest is theirs
