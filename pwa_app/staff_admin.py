"""Staff accounts from the command line (the first administrator, and a way back in).

    python -m pwa_app.staff_admin create-admin --email ana@ayto.es [--name "Ana Pérez"]
    python -m pwa_app.staff_admin create-user --email luis@ayto.es --role desk --office oac-casa-consistorial
    python -m pwa_app.staff_admin set-password --email ana@ayto.es
    python -m pwa_app.staff_admin reset-second-factor --email ana@ayto.es

The password is asked twice without echo; for scripts and tests it is read from the environment variable
CITA_STAFF_PASSWORD instead. There is no default password. Uses DATABASE_URL like the app.
A new account enrols its second factor at its first sign-in; scripts and tests may instead give the TOTP secret
(base32) in CITA_STAFF_TOTP_SECRET, which `create-admin` and `create-user` then enrol.
"""

import argparse
import getpass
import sys

from sqlmodel import select

from pwa_app import db
from pwa_app.models import Department, Office, StaffUser
from pwa_app.settings import get_settings
from pwa_app.staff import audit, auth, second_factor
from pwa_app.staff.auth import AuthError

ENV = "CITA_STAFF_PASSWORD"
MESSAGES = {
    "email": "That is not an e-mail address.",
    "exists": "There is already an account with that e-mail address.",
    "weak_password": f"The password must have at least {auth.PASSWORD_MIN} characters.",
    "role": "Unknown role: use admin, manager or desk.",
}


def read_password() -> str:
    password = get_settings().staff_password
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit(f"No terminal to ask for the password: set {ENV}.")
    first = getpass.getpass("Password (at least %d characters): " % auth.PASSWORD_MIN)
    if getpass.getpass("Repeat the password: ") != first:
        raise SystemExit("The passwords do not match.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pwa_app.staff_admin", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("create-admin", help="create an administrator")
    user = sub.add_parser("create-user", help="create a manager or front-desk account")
    for p in (admin, user):
        p.add_argument("--email", required=True)
        p.add_argument("--name", default="")
    user.add_argument("--role", choices=["admin", "manager", "desk"], default="desk")
    user.add_argument("--office", action="append", default=[], help="office slug (repeat for several)")
    user.add_argument("--department", help="department slug (whose requests they answer)")
    reset = sub.add_parser("set-password", help="set a new password (ends the account's sessions)")
    reset.add_argument("--email", required=True)
    second = sub.add_parser("reset-second-factor", help="turn the second factor off (a lost phone); administrators "
                                                        "and managers enrol again at their next sign-in")
    second.add_argument("--email", required=True)
    args = parser.parse_args(argv)

    with db.session() as session:
        try:
            if args.command in ("set-password", "reset-second-factor"):
                found = session.exec(select(StaffUser).where(StaffUser.email == auth.normalize_email(args.email))).first()
                if not found:
                    print("No account with that e-mail address.", file=sys.stderr)
                    return 1
                if args.command == "reset-second-factor":
                    second_factor.clear_second_factor(session, found)
                    audit.audit(session, None, "user.second_factor_reset_cli", f"staff:{found.id}", email=found.email)
                    session.commit()
                    print(f"Second factor turned off for {found.email}.")
                    return 0
                auth.set_password(session, found, read_password())
                found.active = True
                session.add(found)
                audit.audit(session, None, "user.set_password_cli", f"staff:{found.id}", email=found.email)
                session.commit()
                print(f"New password set for {found.email}.")
                return 0
            role = "admin" if args.command == "create-admin" else args.role
            office_ids, department_id = [], None
            for slug in getattr(args, "office", []):
                office = session.exec(select(Office).where(Office.slug == slug)).first()
                if not office:
                    print(f"Unknown office {slug!r}.", file=sys.stderr)
                    return 1
                office_ids.append(office.id)
            if getattr(args, "department", None):
                dept = session.exec(select(Department).where(Department.slug == args.department)).first()
                if not dept:
                    print(f"Unknown department {args.department!r}.", file=sys.stderr)
                    return 1
                department_id = dept.id
            created = auth.create_user(session, args.email, args.name, role, read_password(),
                                       office_ids=office_ids, department_id=department_id)
            if secret := get_settings().staff_totp_secret:
                second_factor.set_second_factor(session, created, secret)
            audit.audit(session, None, "user.create_cli", f"staff:{created.id}", email=created.email, role=role)
            session.commit()
        except AuthError as exc:
            print(MESSAGES.get(exc.code, exc.code), file=sys.stderr)
            return 2
    print(f"Account created: {created.email} ({role}). Sign in at /staff/login/.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
