"""Citizen-facing messages for error codes, shared by the API answers and the pages' own checks (offline).
English source strings, translated through the gettext catalogues."""


def N_(message: str) -> str:
    """Marks a string for extraction without translating it here."""
    return message


ERRORS: dict[str, str] = {
    "required": N_("This field is required."),
    "too_long": N_("This is too long. Please shorten it."),
    "chars": N_("Please use only letters, numbers, spaces and usual punctuation."),
    "document_format": N_(
        "Enter a DNI (8 numbers and a letter), an NIE (X, Y or Z, 7 numbers and a letter) or a passport number."
    ),
    "document_letter": N_("The letter does not match the number. Please check your document."),
    "document_too_long": N_("This is too long for a document number."),
    "phone": N_("Enter a phone number of 9 to 15 digits, for example 612 345 678."),
    "phone_for_lookup": N_("Enter a phone number: you will need its last four digits to find your booking."),
    "email": N_("Enter an email address like name@example.com."),
    "consent": N_("To book, please accept the privacy notice."),
    "taken": N_("Someone has just booked that time. Please choose one of the nearest free times."),
    "unavailable": N_("That time can no longer be booked. Please choose one of the nearest free times."),
    "not_changeable": N_("This appointment can no longer be changed."),
    "unknown_procedure": N_("This procedure cannot be booked online."),
    "unknown_office": N_("This office does not handle this procedure."),
    "not_found": N_("We could not find a booking with that code and those four characters."),
    "key_reused": N_("This request was already sent with different data. Please start again."),
    "bad_request": N_("Something in the request is not valid. Please check it and try again."),
    "slot": N_("Please choose a time."),
}

STATUSES: dict[str, str] = {
    "booked": N_("Booked"),
    "cancelled": N_("Cancelled"),
    "checked_in": N_("Checked in"),
    "done": N_("Attended"),
    "no_show": N_("Missed"),
}


def translated(table: dict[str, str], gettext) -> dict[str, str]:
    return {code: gettext(text) for code, text in table.items()}
