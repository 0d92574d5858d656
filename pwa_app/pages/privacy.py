"""The privacy notice the booking (and every form's consent) links to: who keeps what, why, for how long, and the
citizen's rights. Static text, prerendered per language, so it opens offline too."""

import reflex as rx

from components.layout import page
from pwa_app.retention import retention_days


def privacy(t, lang: str) -> rx.Component:
    return page(
        t, lang, "privacidad/",
        rx.el.h1(t.gettext("Privacy notice")),
        rx.el.p(t.gettext("The town hall that offers these appointments and procedures is responsible for your data.")),
        rx.el.h2(t.gettext("What we keep and why"), class_name="h2"),
        rx.el.p(t.gettext("For an appointment: your name, your document number when the procedure needs it, and the "
                          "phone and email you give. For a request: what you write and the files you attach. We use "
                          "them only to attend you and to tell you about changes.")),
        rx.el.h2(t.gettext("For how long"), class_name="h2"),
        rx.el.p(t.gettext("Your personal data is deleted %(days)s days after the appointment. It is not shared with "
                          "anyone else, and there is no advertising or tracking.") % {"days": retention_days()}),
        rx.el.h2(t.gettext("Your rights"), class_name="h2"),
        rx.el.p(t.gettext("You can delete the personal data of a booking yourself, on its page (\"Delete my personal "
                          "data\"). For access, correction or any other right, contact the town hall. You can also "
                          "complain to the Spanish Data Protection Agency (AEPD).")),
    )
