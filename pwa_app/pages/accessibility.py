"""The accessibility statement (declaración de accesibilidad) that Royal Decree 1112/2018 (art. 15) and Directive
(EU) 2016/2102 ask of every public-sector website, in the model of Implementing Decision (EU) 2018/1523: how far
Cita conforms, what is known not to, how to tell the town hall, and how to complain. Prerendered per language;
the town hall's phone and website come from the saved catalogue, like the header's town name."""

from datetime import date

import reflex as rx
from babel.dates import format_date

from components.data import hook
from components.layout import page
from components.views import Shell
from pwa_app.common.i18n import text_direction
from pwa_app.common.messages import N_
from pwa_app.routes import SUGGESTIONS, citizen

PREPARED = date(2026, 12, 3)  # the date of the self-assessment; update it with each review
RESPONSE_DAYS = 20  # working days to answer a communication (RD 1112/2018, art. 12.3)
# Known failures of WCAG 2.1 AA / EN 301 549, as of PREPARED. Keep this list honest.
GAPS = [
    N_("The translations of the pages into Catalan, Basque, Galician, English, French, Arabic, Romanian, "
       "Ukrainian and Chinese have not yet been reviewed by native speakers: some wording may be unclear."),
    N_("When a name or a description of the catalogue has no translation in your language, it is shown in "
       "Spanish, with a note saying so."),
    N_("Appointments in high demand must be confirmed from the e-mail link within 30 minutes, and this time "
       "cannot be extended (WCAG 2.2.1). If you need more time, book at the office or by phone."),
    N_("The links to the offices' maps open an external map service whose accessibility we have not assessed."),
    N_("The accessibility has been checked by the team that builds Cita (automatic tests, keyboard and screen "
       "reader checks), not yet by an independent audit nor with users with disabilities."),
]


def accessibility(t, lang: str) -> rx.Component:
    _ = t.gettext
    shell = hook("useShell", lang, text_direction(lang), var_type=Shell)
    prepared = format_date(PREPARED, "long", locale=lang)
    return page(
        t, lang, "accesibilidad/",
        rx.el.h1(_("Accessibility statement")),
        rx.el.p(_("The town hall is committed to making Cita, its website for appointments and requests, "
                  "accessible, in accordance with Royal Decree 1112/2018 on the accessibility of public-sector "
                  "websites and mobile applications, which transposes Directive (EU) 2016/2102.")),
        rx.el.h2(_("Compliance status"), class_name="h2"),
        rx.el.p(_("This website is partially compliant with the Web Content Accessibility Guidelines (WCAG) 2.1 "
                  "level AA and with the European standard EN 301 549, because of the shortcomings listed "
                  "below.")),
        rx.el.h2(_("Content that is not accessible"), class_name="h2"),
        rx.el.ul(*[rx.el.li(_(gap)) for gap in GAPS], class_name="prose-list"),
        rx.el.h2(_("Preparation of this statement"), class_name="h2"),
        rx.el.p(_("This statement was prepared on %(date)s, by self-assessment, and was last reviewed on that "
                  "date.") % {"date": prepared}),
        rx.el.h2(_("Feedback and contact"), class_name="h2"),
        rx.el.p(_("Tell us about any accessibility problem, ask for information in an accessible format, or "
                  "complain about how this website complies (art. 10.2 of Royal Decree 1112/2018). We will answer "
                  "within %(days)d working days.") % {"days": RESPONSE_DAYS}),
        rx.el.ul(
            rx.el.li(_("Town hall"), ": ", rx.el.span(shell["town"])),
            # dir="ltr": in Arabic the groups of a phone number would otherwise come out in reverse order
            rx.el.li(_("Phone"), ": ", rx.el.a(shell["phone"], href="tel:" + shell["phone"].replace(" ", ""),
                                               id="a11y-phone", dir="ltr")),
            rx.el.li(_("Website"), ": ", rx.el.a(shell["website"], href=shell["website"], dir="ltr")),
            rx.el.li(rx.el.a(_("Suggestion box"), href=citizen(lang, SUGGESTIONS))),
            rx.el.li(_("In person, at the Citizen Service Office.")),
            class_name="prose-list",
        ),
        rx.el.h2(_("Enforcement procedure"), class_name="h2"),
        rx.el.p(_("If your request for accessible information or your complaint is rejected, if you disagree "
                  "with the decision, or if you get no answer within %(days)d working days, you can file a claim "
                  "(reclamación) under article 13 of Royal Decree 1112/2018. Address it to the town hall through "
                  "its general registry or its electronic office (sede electrónica), following Law 39/2015; it "
                  "will be decided within two months, and the decision can be appealed.")
               % {"days": RESPONSE_DAYS}),
    )
