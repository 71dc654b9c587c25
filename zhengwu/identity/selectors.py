"""Reads for sign-in and accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from zhengwu.core.models import AccountKind, AuditEvent, User
from zhengwu.identity.contacts import Contact, parse_contact
from zhengwu.identity.models import CodeChannel


def public_account_by_contact(contact: Contact) -> User | None:
    """The public (citizen/enterprise) account registered with this phone number or e-mail address."""
    field = "mobile_index" if contact.channel == CodeChannel.SMS else "email_index"
    return User.objects.exclude(kind=AccountKind.STAFF).filter(**{field: contact.index}).first()


def public_account_by_identifier(identifier: str) -> User | None:
    """A public account by what its owner types at sign-in: phone number, e-mail address or username."""
    identifier = identifier.strip()
    if not identifier:
        return None
    user = User.objects.exclude(kind=AccountKind.STAFF).filter(username=identifier).first()
    if user is not None:
        return user
    try:
        contact = parse_contact(identifier)
    except ValidationError:
        return None
    return public_account_by_contact(contact)


@dataclass
class LockedAccount:
    username: str
    failures: int
    last_attempt: dt.datetime
    unlocks_at: dt.datetime
    user: User | None


def locked_accounts() -> list[LockedAccount]:
    """Accounts locked now by repeated sign-in failures (the lock lifts by itself after the cool-off)."""
    from axes.models import AccessAttempt

    cooloff = dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    since = timezone.now() - cooloff
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .exclude(username__isnull=True)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    users = {u.username: u for u in User.objects.filter(username__in=[r["username"] for r in rows])}
    return [
        LockedAccount(
            username=r["username"],
            failures=r["failures"],
            last_attempt=r["last"],
            unlocks_at=r["last"] + cooloff,
            user=users.get(r["username"]),
        )
        for r in rows
    ]


def recent_sign_in_events(user: Any, *, limit: int = 10) -> QuerySet[AuditEvent]:
    """The account's latest sign-in records from the trail (shown on 账号安全 so people spot misuse)."""
    return AuditEvent.objects.filter(
        Q(object_type="core.user", object_id=str(user.pk))
        & Q(action__in=["auth.login", "auth.logout", "auth.logout_everywhere", "auth.password_change"])
    ).order_by("-seq")[:limit]


def oidc_clients() -> QuerySet[Any]:
    from oauth2_provider.models import get_application_model

    return (
        get_application_model()
        .objects.select_related("user")
        .annotate(token_count=Count("accesstoken", distinct=True))
        .order_by("name", "id")
    )
