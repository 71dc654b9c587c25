"""Demo meetings (演示会议通知): notices from the city and a county government to groups of units, in every
registration state — units registered (one with a substitute, 代参会), one declined, others still to
register and reminded, a full meeting with a waitlist (候补), and a past meeting with its check-ins (签到).
Registered as a step of `zhengwu demo` (zhengwu.core.demo).

Rows are written directly (as the organisation step does): the demo's one trail record is written by
demo_build, and nobody is notified of demo data. Times are relative to the build time, names and phones
come from a seeded generator, so every build is the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from zhengwu.core.demo import DemoContext, DemoStep, register_step
from zhengwu.core.demo.data import CITY_CODE, GIVEN_CHARS, SURNAMES_WEIGHTED
from zhengwu.core.models import Unit, UnitGroup, UnitKind, User
from zhengwu.core.selectors import unit_group_members
from zhengwu.meetings.models import (
    Attendee,
    AttendeeStatus,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingStatus,
)

FORM = [
    {"key": "post", "required": True},
    {"key": "phone", "required": True},
    {"key": "dining", "required": False},
]
POSTS = ("分管负责同志", "办公室主任", "科长", "副科长", "科员")


@dataclass(frozen=True)
class Plan:
    key: str
    title: str
    place: str
    organizer: str  # the username of the clerk who drafted it (their unit organizes)
    group: str  # "county-governments", "city-departments" or "townships" (of the organizer's county)
    start_days: int  # days from the build (negative: already held)
    deadline_days: int
    cap_per_unit: int | None = None
    total_cap: int | None = None


PLANS = (
    Plan(
        "fire",
        "全市森林草原防灭火工作会议",
        "市政府三楼第一会议室",
        "city_clerk",
        "county-governments",
        start_days=6,
        deadline_days=4,
        cap_per_unit=3,
    ),
    Plan(
        "training",
        "全市政务公开与政务服务业务培训会",
        "市行政中心五楼多功能厅",
        "city_clerk",
        "city-departments",
        start_days=9,
        deadline_days=7,
        cap_per_unit=2,
        total_cap=8,
    ),
    Plan(
        "rural",
        "崆峒区乡村振兴重点工作推进会",
        "崆峒区政府二楼会议室",
        "kd_reviewer",
        "townships",
        start_days=4,
        deadline_days=2,
        cap_per_unit=2,
    ),
    Plan(
        "economy",
        "全市第三季度经济运行分析会",
        "市政府三楼第一会议室",
        "city_clerk",
        "county-governments",
        start_days=-12,
        deadline_days=-14,
        cap_per_unit=2,
    ),
)


def _at(ctx: DemoContext, days: int, hour: int) -> dt.datetime:
    day = timezone.localtime(ctx.now) + dt.timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _recipients(plan: Plan, organizer: Unit) -> tuple[list[UnitGroup], list[int]]:
    if plan.group == "townships":
        groups = [
            g
            for g in UnitGroup.objects.filter(within=organizer.region, owner__isnull=True)
            if UnitKind.TOWNSHIP in (g.kinds or [])
        ][:1]
    else:
        groups = list(UnitGroup.objects.filter(code=plan.group))
    unit_ids: dict[int, None] = {}
    for group in groups:
        for pk in unit_group_members(group).values_list("pk", flat=True):
            unit_ids[pk] = None
    unit_ids.pop(organizer.pk, None)
    return groups, list(unit_ids)


class _People:
    """Deterministic attendee names and mobile numbers."""

    def __init__(self, ctx: DemoContext) -> None:
        self.rng = ctx.rng("meetings")
        self.n = 0

    def name(self) -> str:
        given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES_WEIGHTED) + given

    def phone(self) -> str:
        self.n += 1
        return f"139{self.rng.randint(1000, 9999)}{self.n:04d}"


def _register(
    people: _People,
    meeting: Meeting,
    invitation: Invitation,
    clerk: User | None,
    at: dt.datetime,
    count: int,
    *,
    substitute: bool = False,
    status: str = AttendeeStatus.CONFIRMED,
) -> list[Attendee]:
    rows = []
    for i in range(count):
        rows.append(
            Attendee(
                meeting=meeting,
                invitation=invitation,
                name=people.name(),
                post=POSTS[i % len(POSTS)],
                phone=people.phone(),
                dining="就餐" if i % 2 == 0 else "不就餐",
                # 代参会: the first attendee stands in for the unit's principal, who was invited by name.
                substitute_for=f"{people.name()}（主要负责同志）" if substitute and i == 0 else "",
                status=status,
                registered_at=at + dt.timedelta(minutes=7 * i),
            )
        )
    invitation.status = InvitationStatus.REGISTERED
    invitation.responded_at = at
    invitation.responded_by = clerk
    invitation.save(update_fields=["status", "responded_at", "responded_by"])
    return rows


def _clerk_of(unit_id: int) -> User | None:
    return (
        User.objects.filter(unit_roles__unit_id=unit_id, unit_roles__role="clerk", is_active=True)
        .order_by("pk")
        .first()
    )


def build(ctx: DemoContext) -> dict[str, int]:
    users = {u.username: u for u in User.objects.filter(username__in={p.organizer for p in PLANS})}
    people = _People(ctx)
    counts = {"meetings": 0, "invitations": 0, "attendees": 0, "waitlisted": 0, "checked_in": 0}
    for plan in PLANS:
        author = users.get(plan.organizer)
        if author is None or author.primary_unit is None:
            continue
        organizer = author.primary_unit
        groups, unit_ids = _recipients(plan, organizer)
        if not unit_ids:
            continue
        starts_at = _at(ctx, plan.start_days, 9)
        sent_at = min(ctx.now - dt.timedelta(days=1), _at(ctx, plan.deadline_days - 5, 10))
        meeting = Meeting.objects.create(
            organizer=organizer,
            created_by=author,
            title=plan.title,
            body=f"请各单位于报名截止时间前在线报名，按时参会。联系人：{author.name}，电话 0933-8000000。",
            place=plan.place,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=3),
            deadline=_at(ctx, plan.deadline_days, 18),
            cap_per_unit=plan.cap_per_unit,
            total_cap=plan.total_cap,
            form_fields=FORM,
            status=MeetingStatus.OPEN,
            sent_at=sent_at,
        )
        meeting.recipient_groups.set(groups)
        Invitation.objects.bulk_create([Invitation(meeting=meeting, unit_id=pk) for pk in unit_ids])
        invitations = list(
            Invitation.objects.filter(meeting=meeting).select_related("unit").order_by("unit__path")
        )
        rows = _answers(ctx, plan, people, meeting, invitations, sent_at)
        Attendee.objects.bulk_create(rows)
        counts["meetings"] += 1
        counts["invitations"] += len(invitations)
        counts["attendees"] += len(rows)
        counts["waitlisted"] += sum(1 for a in rows if a.status == AttendeeStatus.WAITLISTED)
        counts["checked_in"] += sum(1 for a in rows if a.checked_in_at is not None)
    return counts


def _answers(
    ctx: DemoContext,
    plan: Plan,
    people: _People,
    meeting: Meeting,
    invitations: list[Invitation],
    sent_at: dt.datetime,
) -> list[Attendee]:
    """Who registered whom: each plan shows a different part of registration."""
    rows: list[Attendee] = []
    rng = ctx.rng(f"meetings:{plan.key}")

    def at(i: int) -> dt.datetime:
        return min(ctx.now, sent_at + dt.timedelta(hours=2 + 3 * i, minutes=rng.randint(0, 50)))

    if plan.key == "economy":  # held already: every unit came, most attendees signed in on the day
        for i, inv in enumerate(invitations):
            rows += _register(people, meeting, inv, _clerk_of(inv.unit_id), at(i), 2, substitute=i == 1)
        for j, attendee in enumerate(rows):
            if j % 5 != 4:
                attendee.checked_in_at = meeting.starts_at - dt.timedelta(minutes=30 - j)
        return rows
    if plan.key == "training":  # a total cap of 8: the last units' attendees wait for a place
        confirmed = 0
        for i, inv in enumerate(invitations[:6]):
            taken = []
            for attendee in _register(people, meeting, inv, _clerk_of(inv.unit_id), at(i), 2):
                if confirmed >= (plan.total_cap or 0):
                    attendee.status = AttendeeStatus.WAITLISTED
                else:
                    confirmed += 1
                taken.append(attendee)
            rows += taken
        return rows
    # Open notices: the first unit registers with a substitute, the second in person, the third
    # declines; the rest have not answered and were reminded once — except the township clerk's own
    # 崆峒镇 (first of its county), kept pending so its clerk finds it on the workbench.
    pending_first = plan.key == "rural"
    answering = invitations[1:] if pending_first else invitations
    for i, inv in enumerate(answering[:3]):
        if i == 2:
            inv.status = InvitationStatus.DECLINED
            inv.decline_reason = "与本单位防汛值班冲突，无法派员参会"
            inv.responded_at = at(i)
            inv.responded_by = _clerk_of(inv.unit_id)
            inv.save(update_fields=["status", "decline_reason", "responded_at", "responded_by"])
        else:
            rows += _register(people, meeting, inv, _clerk_of(inv.unit_id), at(i), 2 - i, substitute=i == 0)
    reminded = [inv.pk for inv in answering[3:]]
    Invitation.objects.filter(pk__in=reminded).update(
        reminded_count=1, last_reminded_on=timezone.localtime(ctx.now).date() - dt.timedelta(days=1)
    )
    return rows


def reset(ctx: DemoContext) -> dict[str, int]:
    # Every meeting a demo-city unit organized, also those drafted while trying the demo.
    meetings = Meeting.objects.filter(organizer__region__path__startswith=f"{CITY_CODE}/")
    counts = {
        "meetings": meetings.count(),
        "invitations": Invitation.objects.filter(meeting__in=meetings).count(),
        "attendees": Attendee.objects.filter(meeting__in=meetings).count(),
    }
    meetings.delete()
    return counts


register_step(DemoStep("meetings", "会议通知报名 / meeting notices", build, reset))
