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
    "email_required": N_("This procedure is in high demand: enter your email address. We will send you a link to "
                         "confirm the booking."),
    "confirm_unknown": N_("This confirmation link is not valid. Please open the link from your email again, "
                          "without changing it."),
    "confirm_expired": N_("This booking was not confirmed in time, so the time was offered to other people. You "
                          "can book again below."),
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
    "offline": N_("You are offline. Connect to the internet and try again."),
    "limit_procedure": N_("There is already an active appointment for this person for this procedure. To change "
                          "it, open it in My appointments or find it with its booking code."),
    "limit_total": N_("This person already has the most active appointments allowed. Cancel one in My appointments "
                      "before booking another."),
    "challenge": N_("Your device could not prove this is a person booking. Please try again."),
    "challenge_request": N_("Your device could not prove this request comes from a person. Please try again."),
    # Visits (appointments/visits.py): several people or procedures, booking for someone else
    "party_too_big": N_("Too many people for one booking. Please book the others separately."),
    "same_person": N_("This document is already in this booking: each person comes once."),
    "too_many_procedures": N_("Too many procedures for one visit. Please book the others separately."),
    "not_at_office": N_("This office cannot do that procedure in the same visit. Please book it separately."),
    "party_taken": N_("There are not enough free places at that time for everyone. Please choose one of the "
                      "nearest free times."),
    "visit_taken": N_("The next procedure cannot be done right after this one at that time. Please choose another "
                      "time."),
    "rep_contact": N_("Enter your email address or phone number, so that the town hall can reach you."),
    "rep_consent": N_("To book for someone else, please confirm that they have agreed to it."),
    "hold_expired": N_("The time we kept for you has run out, so it has been offered to others. Please choose a "
                       "time again."),
    # Requests (seguimiento)
    "unknown_request_type": N_("This type of request cannot be sent online. Please choose another one."),
    "request_not_found": N_("We could not find a request with that tracking code. Please check it and try again."),
    "no_html": N_("Please write plain text, without HTML tags."),
    "location_required": N_("Please tell us where: type an address or use your location."),
    "location": N_("The location is not valid. Please type an address instead."),
    "contact_required": N_("Enter an email address or a phone number so that we can answer you."),
    "consent_request": N_("To send your request, please accept the privacy notice."),
    "no_files": N_("This type of request does not take attachments."),
    "too_many_files": N_("You have attached too many files. Please remove some."),
    "file_too_big": N_("Each file must be 5 MB or smaller. Please attach a smaller one."),
    "file_unreadable": N_("A file could not be read. Please attach it again."),
    "photo_unreadable": N_("A photo could not be opened as an image. Please attach it again or take a new one."),
    "photo_too_large": N_("A photo has too many pixels (more than 40 megapixels). Please attach a smaller one."),
    "file_type": N_("Please attach photos (JPEG, PNG or WebP) or PDF documents only."),
    "file_type_photo": N_("Please attach photos in JPEG, PNG or WebP format only."),
    "file_type_pdf": N_("Please attach PDF documents only."),
    "too_large": N_("What you sent is too large. Please attach smaller files."),
    "not_open": N_("This request is closed. If you need more, please send a new request."),
    "rate_limited": N_("Too many attempts in a short time. Please wait a minute and try again."),
    # Booking limits (pwa_app/api/fair.py): why, then when (RATE_WAIT)
    "rate_burst": N_("Too many attempts from this connection in a short time."),
    "rate_connection": N_("Many bookings have been made from this connection in a short time (for example a shared "
                          "Wi-Fi)."),
    "rate_person": N_("This person has already made several bookings in the last hour."),
    "busy": N_("The service is very busy right now. Please try again in a few seconds."),
    # Staff side (status changes)
    "transition": N_("This status change is not allowed from the current status."),
    "unknown_status": N_("Unknown status."),
    "unknown_department": N_("Unknown department."),
}

# Said after booking a high-demand procedure, and on the appointment while it waits.
CONFIRM_NOTE = N_("Check your email: we have sent a link to %(email)s. Open it within %(minutes)s minutes (by "
                  "%(time)s) to confirm this booking. If you do not, the time will be offered to other people.")

# Said under the calendar of procedures whose days open in batches.
RATE_WAIT = N_("You can try again at %(time)s (in %(minutes)s min).")
RELEASE = N_("New days open every working day. The next ones open on {day} at {time}.")

STATUSES: dict[str, str] = {
    "booked": N_("Booked"),
    "pending": N_("Waiting for your confirmation"),
    "expired": N_("Not confirmed in time"),
    "cancelled": N_("Cancelled"),
    "checked_in": N_("Checked in"),
    "done": N_("Attended"),
    "no_show": N_("Missed"),
}


# The request workflow. Labels as the citizen sees them; the help says what the status means for them.
REQUEST_STATUSES: dict[str, str] = {
    "received": N_("Received"),
    "assigned": N_("Assigned"),
    "in_progress": N_("In progress"),
    "waiting_citizen": N_("Waiting for you"),
    "resolved": N_("Resolved"),
    "rejected": N_("Rejected"),
    "closed": N_("Closed"),
}

REQUEST_STATUS_HELP: dict[str, str] = {
    "received": N_("We have received your request and will pass it to the department responsible."),
    "assigned": N_("The department responsible has your request and will look at it soon."),
    "in_progress": N_("The department responsible is working on your request."),
    "waiting_citizen": N_("We need something from you before we can go on: see what is expected below."),
    "resolved": N_("Your request has been resolved."),
    "rejected": N_("Your request could not be accepted. The reasons are in the timeline."),
    "closed": N_("This request is closed."),
}

TRACKING: dict[str, str] = {
    "reply": N_("Your reply"),
    "due": N_("Answer expected by %(date)s"),
    "overdue": N_("The answer is late: it was expected by %(date)s. We are sorry for the delay."),
    "paused": N_("The time limit is paused until we receive your answer."),
    "respond_by": N_("Please answer by %(date)s"),
    "tracking_notice": N_("Keep this tracking code to follow your request: %(code)s. Answer expected by %(date)s."),
}


def translated(table: dict[str, str], gettext) -> dict[str, str]:
    return {code: gettext(text) for code, text in table.items()}
