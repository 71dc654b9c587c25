"""The demo city (演示城市): `zhengwu demo` builds it as an ordered list of steps.

Core registers the first step (the organisation: regions, units, people, groups, public accounts). Each
later subsystem adds its own demo data by defining ``zhengwu/<app>/demo.py`` that imports this module and
calls ``register_step`` — for example::

    from zhengwu.core.demo import DemoContext, DemoStep, register_step

    def build(ctx: DemoContext) -> dict[str, int]:
        units = ctx.data["units"]          # unit code → id, from the organisation step
        ...
        return {"documents": n}

    register_step(DemoStep("exchange.documents", "公文交换 / document exchange", build, reset))

Steps run in registration order (core first, then the apps in INSTALLED_APPS order) inside one
transaction; resets run in the reverse order. Every step receives the scale: ``small`` for a laptop
demo, ``seed`` for the figures of the seed reports that benchmarks use. Generators are seeded
(``ctx.rng(name)``), so every run builds the same rows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from zhengwu.core.demo.data import CITY_CODE, CITY_NAME
from zhengwu.core.demo.named import DEMO_PASSWORD, NAMED_ACCOUNTS, NAMED_USERNAMES

__all__ = [
    "DEMO_PASSWORD",
    "NAMED_ACCOUNTS",
    "SCALES",
    "DemoContext",
    "DemoError",
    "DemoReport",
    "DemoStep",
    "demo_build",
    "demo_built_scale",
    "demo_exists",
    "demo_reset",
    "demo_steps",
    "register_step",
]

SCALES = ("small", "seed")


class DemoError(Exception):
    """The demo cannot be built as asked (explained in the message, in Chinese and English)."""


@dataclass
class DemoContext:
    """What every step receives: the scale, one shared password hash, the build time, a shared dict."""

    scale: str
    password_hash: str
    now: dt.datetime
    log: Callable[[str], None] = print
    # Steps hand results to later steps here: the organisation step leaves "units" (code → id),
    # "regions" (code → id) and "users" (username → id of staff).
    data: dict[str, Any] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """A seeded generator of the step's own: the same sequence on every run."""
        return random.Random(f"zhengwu-demo:{name}")


@dataclass(frozen=True)
class DemoStep:
    name: str
    label: str
    build: Callable[[DemoContext], dict[str, int]]
    reset: Callable[[DemoContext], dict[str, int]] | None = None


@dataclass
class DemoReport:
    scale: str
    seconds: float
    counts: dict[str, dict[str, int]]
    reset_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(n for step in self.counts.values() for k, n in step.items() if k != "villages")


_STEPS: list[DemoStep] = []


def register_step(step: DemoStep) -> DemoStep:
    """Add a step at the end (registering the same name again replaces it in place)."""
    for i, existing in enumerate(_STEPS):
        if existing.name == step.name:
            _STEPS[i] = step
            return step
    _STEPS.append(step)
    return step


def demo_steps() -> list[DemoStep]:
    """The steps in order, after importing every platform app's ``demo`` module."""
    for config in apps.get_app_configs():
        ours = config.name.startswith("zhengwu.") and config.name != "zhengwu.core"
        if ours and module_has_submodule(config.module, "demo"):
            importlib.import_module(f"{config.name}.demo")
    return list(_STEPS)


def demo_exists() -> bool:
    from zhengwu.core.models import Region, User

    return (
        Region.objects.filter(code=CITY_CODE).exists()
        and User.objects.filter(username=NAMED_ACCOUNTS[0].username).exists()
    )


def demo_built_scale() -> str:
    """The scale of the last build, from its record in the trail ("" if none is recorded)."""
    from zhengwu.core.models import AuditEvent

    event = AuditEvent.objects.filter(action="demo.build").order_by("-seq").first()
    if event is None or not isinstance(event.after, dict):
        return ""
    return str(event.after.get("scale", ""))


def _context(scale: str, log: Callable[[str], None]) -> DemoContext:
    return DemoContext(scale=scale, password_hash=make_password(DEMO_PASSWORD), now=timezone.now(), log=log)


def _reset(ctx: DemoContext, steps: list[DemoStep]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for step in reversed(steps):
        if step.reset is None:
            continue
        try:
            out[step.name] = step.reset(ctx)
        except (ProtectedError, RestrictedError) as exc:
            # Rows no demo step knows about still point at demo units or people (work done in the demo,
            # or a step without a reset): say which, and leave everything as it was.
            blocking = sorted({obj._meta.verbose_name for obj in list(exc.args[1])[:50]})
            raise DemoError(
                "无法清空演示数据：以下数据仍引用演示单位或人员 / cannot empty the demo data, "
                f"still referred to by: {', '.join(str(b) for b in blocking)} ({step.name})"
            ) from exc
    return out


def _partly_present() -> bool:
    from zhengwu.core.models import Region, User

    return (
        Region.objects.filter(code=CITY_CODE).exists()
        or User.objects.filter(username__in=NAMED_USERNAMES).exists()
    )


def demo_reset(*, log: Callable[[str], None] = print) -> dict[str, dict[str, int]]:
    """Remove the demo data of every step (newest step first); one trail record."""
    from zhengwu.core.audit import audit_record

    steps = demo_steps()
    ctx = _context("small", log)
    with transaction.atomic():
        counts = _reset(ctx, steps)
        audit_record(
            action="demo.reset",
            object_type="demo",
            object_id=CITY_CODE,
            object_label=f"演示城市 {CITY_NAME}",
            after=counts,
        )
    return counts


def demo_build(
    *, scale: str = "small", reset: bool = False, log: Callable[[str], None] = print
) -> DemoReport:
    """Build the demo city in one transaction; with ``reset``, remove an existing one first."""
    from zhengwu.core.audit import audit_record

    if scale not in SCALES:
        raise DemoError(f"未知规模 / unknown scale: {scale} ({', '.join(SCALES)})")
    started = time.perf_counter()
    steps = demo_steps()
    ctx = _context(scale, log)
    report = DemoReport(scale=scale, seconds=0.0, counts={})
    with transaction.atomic():
        if reset:
            report.reset_counts = _reset(ctx, steps)
            audit_record(
                action="demo.reset",
                object_type="demo",
                object_id=CITY_CODE,
                object_label=f"演示城市 {CITY_NAME}",
                after=report.reset_counts,
            )
        elif _partly_present():
            raise DemoError(
                "数据库中已有演示城市的数据，请加 --reset 重建 / "
                "the database already holds demo data: add --reset to rebuild it"
            )
        for step in steps:
            step_started = time.perf_counter()
            report.counts[step.name] = step.build(ctx)
            log(
                f"  {step.label}: {_summary(report.counts[step.name])} ({time.perf_counter() - step_started:.1f} s)"
            )
        report.seconds = time.perf_counter() - started
        audit_record(
            action="demo.build",
            object_type="demo",
            object_id=CITY_CODE,
            object_label=f"演示城市 {CITY_NAME}",
            after={"scale": scale, "seconds": round(report.seconds, 2), "counts": report.counts},
        )
    return report


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items())


def _build_organisation(ctx: DemoContext) -> dict[str, int]:
    from zhengwu.core.demo import org

    return org.build(ctx)


def _reset_organisation(ctx: DemoContext) -> dict[str, int]:
    from zhengwu.core.demo import org

    return org.reset(ctx)


register_step(
    DemoStep(
        "core.organisation",
        "组织机构与人员 / units and people",
        _build_organisation,
        _reset_organisation,
    )
)
