"""Fixtures of the disclosure tests: a small site cluster, township A1's disclosure desk, helpers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zhengwu.core.models import User
from zhengwu.disclosure import services
from zhengwu.disclosure.models import DisclosureRequest

# A migrated SQLite file for tests whose threads need real queueing writers (see the documents' tests).
from zhengwu.documents.tests.conftest import file_db, migrated_sqlite  # noqa: F401
from zhengwu.portal.tests.factories import Cluster, build_cluster
from zhengwu.testing.cast import Cast, _staff


@pytest.fixture
def publish_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "published"
    settings.PUBLISH_ROOT = root
    return root


@pytest.fixture
def cluster(cast: Cast, publish_root: Path) -> Cluster:
    return build_cluster(cast)


@dataclass
class Desk:
    """Township A1's disclosure desk: the clerk registers and handles, the leader approves extensions."""

    cast: Cast
    clerk: User  # 李文书: clerk + handler of A1
    leader: User  # 马镇长: leader of A1
    applicant: User  # 张三, a citizen
    other_clerk: User  # 王文书: clerk + handler of township A2


@pytest.fixture
def desk(cast: Cast) -> Desk:
    leader = _staff("kt_leader", "马镇长", cast.township_a1_gov, "镇长", ["leader"])
    return Desk(
        cast=cast,
        clerk=cast.township_clerk,
        leader=leader,
        applicant=cast.citizen,
        other_clerk=cast.other_township_clerk,
    )


def submit(desk: Desk, *, unit: Any = None, applicant: Any = None, **values: Any) -> DisclosureRequest:
    data: dict[str, Any] = {
        "applicant_name": "张三",
        "id_number": "620802199001011234",
        "phone": "13800001234",
        "description": "2025年崆峒镇农村危房改造补助资金发放名单",
        "purpose": "核实本户补助情况",
        "delivery_form": "online",
        "token": secrets.token_urlsafe(24),
        **values,
    }
    return services.request_submit(
        actor=applicant or desk.applicant, unit=unit or desk.cast.township_a1_gov, **data
    )


def to_reply(desk: Desk, request: DisclosureRequest) -> DisclosureRequest:
    services.request_register(actor=desk.clerk, request=request)
    return services.request_handle(actor=desk.clerk, request=request, action="reply", opinion="已查明")
