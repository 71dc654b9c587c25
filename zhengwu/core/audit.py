"""The tamper-evident trail (全程留痕): append, verify, purge.

Each record's digest is SM3 over a canonical serialisation of its content and the previous record's
digest. Editing a record breaks its own digest; deleting or inserting one breaks the link to its
neighbour or the run of sequence numbers. `audit_verify` names the first record where the chain breaks.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from zhengwu.core.models import AuditAnchor, AuditEvent, AuditHead, Unit, User
from zhengwu.lib.gmcrypto import sm3_hex
from zhengwu.lib.rows import row_insert_and_update, rows_select

GENESIS = "0" * 64


@dataclass
class AuditContext:
    user: Any = None
    unit: Unit | None = None
    ip: str = ""
    user_agent: str = ""


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("zhengwu_audit", default=None)


def current_context() -> AuditContext:
    return _context.get() or AuditContext()


@contextmanager
def audit_context(**kwargs: Any) -> Iterator[AuditContext]:
    """Bind who/where for the records written inside (the middleware does this per request)."""
    ctx = AuditContext(**kwargs)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "unit": event.unit_id,
        "unit_label": event.unit_label,
        "ip": event.ip,
        "ua": event.user_agent,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "before": event.before,
        "after": event.after,
        "prev": event.prev_digest,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def compute_digest(event: AuditEvent) -> str:
    return sm3_hex(_canonical(event))


def _lock_head() -> AuditHead:
    # One short row lock orders every append; SQLite's IMMEDIATE transactions already serialise writers.
    found = rows_select(AuditHead, "t.id = 1", [], lock=True)
    if not found:
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "digest": GENESIS})
        found = rows_select(AuditHead, "t.id = 1", [], lock=True)
    return found[0]


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Any = None,
    unit: Unit | None = None,
) -> AuditEvent:
    """Append one record to the trail, inside the caller's transaction (it commits or rolls back with it).

    Three statements: lock and read the head, insert the record, move the head. No savepoint of its own:
    a failure here fails the caller's whole transaction, which is what a lost trail record must do.
    """
    ctx = current_context()
    actor = actor if actor is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    unit = unit if unit is not None else ctx.unit
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)[:200]
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=actor.pk if actor is not None else None,
            actor_label=(str(actor) if actor is not None else "")[:128],
            unit_id=unit.pk if unit is not None else None,
            unit_label=(unit.name if unit is not None else "")[:128],
            ip=ctx.ip[:45],
            user_agent=ctx.user_agent[:200],
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            object_label=object_label[:200],
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            prev_digest=head.digest,
        )
        event.digest = compute_digest(event)
        head.seq = event.seq
        head.digest = event.digest
        # Append-only: an insert (never a save() of an existing record), and the head moves with it.
        row_insert_and_update(event, head, ["seq", "digest"])
    return event


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""

    def message(self) -> str:
        if self.ok:
            return f"OK: {self.checked} records, chain intact"
        return f"BROKEN at record seq={self.first_bad_seq} (id={self.first_bad_id}): {self.problem}"


def audit_verify(*, batch: int = 5000) -> VerifyResult:
    """Walk the chain from the anchor (or genesis) and report the first broken record."""
    anchor = AuditAnchor.objects.order_by("-through_seq").first()
    expected_seq = (anchor.through_seq if anchor else 0) + 1
    prev = anchor.digest if anchor else GENESIS
    checked = 0
    last_id = None
    qs = AuditEvent.objects.order_by("seq")
    if anchor:
        qs = qs.filter(seq__gt=anchor.through_seq)
    cursor_seq = expected_seq - 1
    while True:
        rows = list(qs.filter(seq__gt=cursor_seq)[:batch])
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    event.seq,
                    event.pk,
                    f"record(s) seq {expected_seq}..{event.seq - 1} missing (deleted) before this record",
                )
            if event.prev_digest != prev:
                return VerifyResult(
                    False,
                    checked,
                    event.seq,
                    event.pk,
                    "link to the previous record broken (inserted or deleted)",
                )
            if compute_digest(event) != event.digest:
                return VerifyResult(
                    False, checked, event.seq, event.pk, "content does not match its digest (edited)"
                )
            prev = event.digest
            expected_seq += 1
            checked += 1
            last_id = event.pk
            cursor_seq = event.seq
    head = AuditHead.objects.filter(pk=1).first()
    if head and head.seq != expected_seq - 1:
        return VerifyResult(
            False,
            checked,
            expected_seq,
            last_id,
            f"the last {head.seq - (expected_seq - 1)} record(s) up to seq {head.seq} are missing (deleted)",
        )
    if head and head.seq and head.digest != prev:
        return VerifyResult(False, checked, head.seq, last_id, "the last record differs from the chain head")
    return VerifyResult(True, checked)


def audit_purge(*, now: dt.datetime | None = None) -> int:
    """Remove records older than the retention period, anchoring the chain at the last one removed."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    with transaction.atomic():
        last = AuditEvent.objects.filter(at__lt=cutoff).order_by("-seq").first()
        if last is None:
            return 0
        count = AuditEvent.objects.filter(seq__lte=last.seq).count()
        AuditAnchor.objects.create(through_seq=last.seq, digest=last.digest, purged_count=count)
        # QuerySet.delete bypasses the model's append-only guard on purpose: retention is the one exit.
        AuditEvent.objects.filter(seq__lte=last.seq)._raw_delete(AuditEvent.objects.db)
        audit_record(
            action="audit.purge",
            object_type="core.auditevent",
            object_label=f"≤ seq {last.seq}",
            after={"through_seq": last.seq, "count": count, "retention_days": settings.AUDIT_RETENTION_DAYS},
        )
    return count


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """Field values for before/after, personal data masked (mobile/email masked, never plain)."""
    out: dict[str, Any] = {}
    for name in fields:
        if name in {"mobile", "email"} and isinstance(obj, User):
            out[name] = getattr(obj, f"{name}_masked")
            continue
        value = getattr(obj, name)
        out[name] = _jsonable(value)
    return out
