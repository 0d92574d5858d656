"""The staff workspace: signing in, permissions and audit; setting up offices, procedures and schedules; the
day at the desk, the walk-in queue and its wall screens; the inbox of service requests; accounts and reports."""

__all__ = [  # the public modules
    "accounts", "audit", "auth", "desk", "inbox", "permissions", "reports", "schedules", "second_factor", "setup",
    "walk_in", "wall_screens",
]
