"""Fixtures for documents: the city government's sending staff and a clerk in each county government."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengwu.core.models import User
from zhengwu.documents import services
from zhengwu.documents.models import Document
from zhengwu.testing.cast import _staff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name: str = "正文.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@dataclass
class Office:
    drafter: User  # city government clerk (拟稿, 编号, 用印, 分发)
    reviewer: User  # city government 核稿
    leader: User  # city government 签发
    clerk_a: User  # county A government clerk
    clerk_b: User  # county B government clerk
    cast: Any


@pytest.fixture
def office(cast: Any, settings: Any, tmp_path: Any) -> Office:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Office(
        drafter=cast.city_clerk,
        reviewer=_staff("city_reviewer", "钱核稿", cast.city_gov, "秘书科长", ["reviewer"]),
        leader=cast.city_leader,
        clerk_a=_staff("kd_clerk", "何文书", cast.county_a_gov, "收发员", ["clerk"]),
        clerk_b=cast.county_b_clerk,
        cast=cast,
    )


def draft_notice(office: Office, **extra: Any) -> Document:
    kwargs: dict[str, Any] = {
        "actor": office.drafter,
        "unit": office.cast.city_gov,
        "doc_type": "notice",
        "title": "关于做好2026年春季森林防火工作的通知",
        "number_code": "平政发",
        "main_groups": [office.cast.groups["county_governments"].pk],
        "body": pdf(),
    }
    kwargs.update(extra)
    return services.document_create(**kwargs)


def walk(office: Office, doc: Document, *, until: str = "") -> Document:
    """Complete the sending steps in order (stopping before ``until``)."""
    steps = [
        ("draft", office.drafter, "请核稿"),
        ("check", office.reviewer, "文字已核，同意"),
        ("sign_off", office.leader, "同意印发"),
        ("number", office.drafter, ""),
        ("seal", office.drafter, ""),
        ("distribute", office.drafter, ""),
    ]
    for step, actor, opinion in steps:
        if step == until:
            break
        doc = services.document_step_complete(actor=actor, document=doc, opinion=opinion)
    return doc


def send_notice(office: Office, **extra: Any) -> Document:
    return walk(office, draft_notice(office, **extra))
