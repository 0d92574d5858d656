"""Booking an appointment: the slots of a procedure at an office, the shared availability, booking without
over-booking, holds and fair access, and the calendar file. Records "appointment_*" events; imports no
notifications."""

__all__ = [  # the public modules
    "access", "availability", "booking", "calendar_file", "fairness", "slots",
]
