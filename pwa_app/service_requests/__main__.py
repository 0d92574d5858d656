"""From a shell, for the desk or a browser test:
    python -m pwa_app.service_requests show CODE
    python -m pwa_app.service_requests status CODE in_progress [--department SLUG] [--comment TEXT]"""

import argparse
import json

from pwa_app import db
from pwa_app.common.i18n import DEFAULT_LANG, LANGUAGES
from pwa_app.service_requests.rules import STATUSES, ServiceRequestError, find
from pwa_app.service_requests.views import request_view
from pwa_app.service_requests.workflow import change_status


# --- command line (staff desk, tests) -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwa_app.service_requests")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a request's tracking view as JSON")
    show.add_argument("code")
    show.add_argument("--lang", default=DEFAULT_LANG, choices=list(LANGUAGES))
    move = sub.add_parser("status", help="change a request's status, as its department")
    move.add_argument("code")
    move.add_argument("status", choices=STATUSES)
    move.add_argument("--department", help="slug of the department taking it over (with 'assigned')")
    move.add_argument("--comment", default="", help="public comment, in the citizen's language")
    args = parser.parse_args(argv)
    with db.session() as session:
        req = find(session, args.code)
        if not req:
            print("No request with that code.")
            return 1
        if args.command == "status":
            try:
                change_status(session, req, args.status, department=args.department, comment=args.comment)
            except ServiceRequestError as exc:
                print(f"Refused: {exc.errors}")
                return 2
            session.commit()
        print(json.dumps(request_view(session, req, getattr(args, "lang", req.lang)), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
