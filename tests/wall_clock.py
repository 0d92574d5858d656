"""Prints a moment for CITA_TEST_WALL_CLOCK: `python -m tests.wall_clock DAYS [HH:MM]` is DAYS from today at
HH:MM in Madrid (default two minutes before midnight, so the run crosses a day), as an ISO datetime."""

import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")


def moment(days: int, wall: str = "23:58") -> datetime:
    day = datetime.now(MADRID).date() + timedelta(days=days)
    return datetime.combine(day, time.fromisoformat(wall), MADRID)


if __name__ == "__main__":
    print(moment(int(sys.argv[1]), *sys.argv[2:3]).isoformat())
