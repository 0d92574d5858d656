"""The shapes of what the data module's hooks return (assets/offline.js), so pages get typed Vars."""

from typing import TypedDict


class Shell(TypedDict):
    online: bool
    lang: str
    search: str
    bookingsWaiting: int
    changesWaiting: int
    requestsWaiting: int
    updateReady: bool
    town: str
    phone: str
    website: str


class Requirement(TypedDict):
    id: int
    text: str
    note: str
    optional: bool
    ticked: bool
    untranslated: list[str]  # content fields shown in Spanish for want of a translation


class Office(TypedDict):
    slug: str
    name: str
    address: str
    opening_hours: str
    accessibility: str
    map_url: str
    phone: str
    untranslated: list[str]
    earliest: str  # the booking page: the office's earliest free time
    soonest: bool  # ... and whether it is the soonest of all


class Procedure(TypedDict):
    slug: str
    name: str
    summary: str
    description: str
    who_can_apply: str
    fee: str
    duration_minutes: int
    needs_appointment: bool
    online_url: str
    requires_document: bool
    high_demand: bool
    fallback: bool
    untranslated: list[str]
    requirements: list[Requirement]
    officeList: list[Office]


class Area(TypedDict):
    slug: str
    name: str
    untranslated: list[str]
    procedures: list[Procedure]


class Home(TypedDict):
    ready: bool
    otherLanguage: bool
    query: str
    searching: bool
    areas: list[Area]
    results: list[Procedure]
    count: int


class ProcedurePage(TypedDict):
    ready: bool
    found: bool
    p: Procedure
    done: int
    total: int


class Time(TypedDict):
    start: str
    time: str
    free: int


class Day(TypedDict):
    date: str
    n: str
    free: int
    open: bool
    selected: bool
    label: str
    tab: bool  # the day in the tab order (roving tabindex)


class Alternative(TypedDict):
    office: str
    office_name: str
    start: str
    day: str
    time: str


class _DraftFields(TypedDict):
    step: str
    notice: str
    office: str
    day: str
    start: str
    time: str
    name: str
    document: str
    phone: str
    email: str
    consent: bool
    errors: dict[str, str]
    party: str  # a visit: how many people come
    also: list[str]  # further procedures' slugs
    on_behalf: bool  # booked by a representative
    rep_name: str
    rep_email: str
    rep_phone: str
    rep_consent: bool


# Person n of a visit types name_n and document_n (n from 2; the first person's are name and document).
Draft = TypedDict("Draft", {**_DraftFields.__annotations__,
                            **{f"{field}_{n}": str for n in range(2, 10) for field in ("name", "document")}})


class VisitProcedure(TypedDict):
    slug: str
    name: str
    time: str
    requirements: list[str]


class AlsoOption(TypedDict):
    slug: str
    name: str
    checked: bool


class AppointmentView(TypedDict):
    code: str
    verifier: str
    status: str
    status_label: str
    changeable: bool
    procedure: Procedure
    requirements: list[str]
    office: Office
    start: str
    day: str
    time: str
    name: str
    confirm_note: str
    ics_url: str
    asOf: str
    key: str
    people: list[str]  # a visit of several people: every name, else empty
    also: list[VisitProcedure]  # a visit's further procedures, else empty
    end: str  # a visit of several procedures: when it ends
    minutes: int
    representative: str  # who booked for the person, if someone did


class Booking(TypedDict):
    id: str
    ready: bool
    found: bool
    p: Procedure
    draft: Draft
    office: Office
    hasOffice: bool
    rescheduling: bool
    code: str
    hasDays: bool
    daysOtherLanguage: bool  # the saved calendar is another language's (offline, never opened in this one)
    asOf: str
    month: str
    monthLabel: str
    prevMonth: str
    nextMonth: str
    weeks: list[list[Day]]
    dayLabel: str
    times: list[Time]
    status: str
    result: dict[str, str]
    alternatives: list[Alternative]
    itemErrors: dict[str, str]
    itemErrorList: list[str]
    confirmed: AppointmentView
    isConfirmed: bool
    isOnline: bool
    retrying: bool
    held: bool
    holdClock: str
    holdMinutes: str
    holdEnding: bool
    canRenew: bool
    limited: str
    limitReached: bool
    nextRelease: str
    party: int
    partyLabel: str
    alsoNames: list[str]
    alsoOptions: list[AlsoOption]


class OutboxItem(TypedDict):
    id: str
    kind: str
    status: str
    label: dict[str, str]
    errors: dict[str, str]


class Lookup(TypedDict):
    errors: dict[str, str]
    code: str
    verifier: str


class MyAppointments(TypedDict):
    list: list[AppointmentView]
    count: int
    waiting: list[OutboxItem]
    waitingCount: int
    lookup: Lookup


class AppointmentPage(TypedDict):
    ready: bool
    found: bool
    a: AppointmentView
    asOf: str
    asOfLabel: str
    key: str
    pendingCount: int
    confirming: bool
    forgetting: bool


class ConfirmAlternative(Alternative):
    procedure: str


class ConfirmPage(TypedDict):
    ready: bool
    status: str
    confirmed: AppointmentView
    isConfirmed: bool
    errorList: list[str]
    alternatives: list[ConfirmAlternative]


class Department(TypedDict):
    slug: str
    name: str
    email: str
    phone: str


class RequestType(TypedDict):
    slug: str
    name: str
    description: str
    hint: str
    department: Department
    response_label: str
    allows_photo: bool
    allows_files: bool
    allows_location: bool
    needs_location: bool
    needs_contact: bool
    needs_document: bool
    accept: list[str]


class RequestDraft(TypedDict):
    type: str
    description: str
    address: str
    lat: float
    lon: float
    name: str
    email: str
    phone: str
    document: str
    consent: bool
    errors: dict[str, str]


class FileItem(TypedDict):
    n: int
    filename: str
    size: str


class TimelineEntry(TypedDict):
    status: str
    label: str
    actor: str
    department: Department
    at: str
    at_label: str
    comment: str


class RequestView(TypedDict):
    code: str
    key: str
    type: RequestType
    description: str
    address: str
    status: str
    status_label: str
    status_help: str
    open: bool
    department: Department
    submitted_label: str
    due_label: str
    response_label: str
    overdue: bool
    overdue_label: str
    paused_label: str
    can_reply: bool
    timeline: list[TimelineEntry]
    attachments: list[dict[str, str]]
    as_of_label: str


class FieldError(TypedDict):
    code: str
    target: str
    href: str


class NewRequest(TypedDict):
    ready: bool
    types: list[RequestType]
    type: RequestType
    hasType: bool
    draft: RequestDraft
    isOnline: bool
    step: str
    errorList: list[FieldError]
    fileKind: str
    files: list[FileItem]
    fileCount: int
    status: str
    retrying: bool
    confirmed: RequestView
    isConfirmed: bool


class MyRequests(TypedDict):
    list: list[RequestView]
    count: int
    waiting: list[OutboxItem]
    waitingCount: int
    lookup: Lookup


class Expected(TypedDict):
    text: str
    respond_by_label: str


class Reply(TypedDict):
    text: str
    errors: dict[str, str]


class SentFile(TypedDict):
    url: str
    filename: str
    image: bool
    size: str


class RequestPage(TypedDict):
    ready: bool
    found: bool
    key: str
    r: RequestView
    asOfLabel: str
    expected: Expected
    hasExpected: bool
    reply: Reply
    pendingCount: int
    files: list[SentFile]
