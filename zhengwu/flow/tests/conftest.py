"""Fixtures for the process engine: the repository's definitions published, and the people they route to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command

from zhengwu.core.models import UnitRole, User
from zhengwu.testing.cast import _staff


@pytest.fixture
def processes(db: Any) -> dict[str, Any]:
    from zhengwu.flow.models import ProcessDefinition

    call_command("load_processes", verbosity=0)
    return {d.key: d for d in ProcessDefinition.objects.all()}


@dataclass
class People:
    """Who does what in the engine tests (on top of the shared cast)."""

    starter: User  # township A1 clerk, handler
    reviewer: User  # township A1 reviewer
    reviewer2: User  # township A1 reviewer
    leader: User  # township A1 leader
    colleague: User  # township A1 handler, no roles beyond that


@pytest.fixture
def people(cast: Any) -> People:
    a1 = cast.township_a1_gov
    reviewer = _staff("kt_reviewer", "钱审核", a1, "审核员", ["reviewer", "handler"])
    reviewer2 = _staff("kt_reviewer2", "孙审核", a1, "审核员二", ["reviewer"])
    leader = _staff("kt_leader", "马镇长", a1, "镇长", ["leader"])
    colleague = _staff("kt_colleague", "冯科员", a1, "科员", ["handler"])
    # The parallel departments of the sample: reviewers in county A, county B and township A1.
    UnitRole.objects.get_or_create(user=cast.county_b_clerk, unit=cast.county_b_gov, role="reviewer")
    return People(
        starter=cast.township_clerk,
        reviewer=reviewer,
        reviewer2=reviewer2,
        leader=leader,
        colleague=colleague,
    )
