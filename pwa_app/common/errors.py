"""One base for every refusal of the town hall's rules: a message code per form field, and its translation.

Domain code raises a subclass with `errors` ({field or "form": code of messages.ERRORS}); nothing was written.
The API answers with `messages(lang)` beside the codes; the staff pages show their own Spanish texts per code."""

from pwa_app.common.i18n import gettext, pick_lang
from pwa_app.common.messages import ERRORS


def translated_errors(errors: dict[str, str], lang: str) -> dict[str, str]:
    """{field: the code's message in `lang`}; an unknown code reads as a plain "bad request"."""
    lang = pick_lang(lang)
    return {field: gettext(lang, ERRORS.get(code, ERRORS["bad_request"])) for field, code in errors.items()}


class DomainError(Exception):
    """A refused action. `errors` maps a field (or "form") to a message code; `info` carries numbers for the
    message (how many appointments a closure would cancel...)."""

    def __init__(self, errors: dict[str, str], **info):
        super().__init__(errors)
        self.errors, self.info = errors, info

    @property
    def code(self) -> str:
        """The first field's code (the only one, for refusals of a whole action)."""
        return next(iter(self.errors.values()), "")

    def messages(self, lang: str) -> dict[str, str]:
        return translated_errors(self.errors, lang)
