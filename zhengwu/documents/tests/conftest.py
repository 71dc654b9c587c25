"""Fixtures for documents: the city government's sending staff and a clerk in each county government."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from zhengwu.core.models import User
from zhengwu.documents import services
from zhengwu.documents.models import Document
from zhengwu.testing.cast import _staff


def _one_page_pdf() -> bytes:
    """A small valid PDF (one A4 page with a line of text), with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = b"BT /F1 24 Tf 72 760 Td (Zhengwu test document) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + (body or b"") + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = _one_page_pdf()


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
    return office_build(cast)


def office_build(cast: Any) -> Office:
    return Office(
        drafter=cast.city_clerk,
        reviewer=_staff("city_reviewer", "钱核稿", cast.city_gov, "秘书科长", ["reviewer"]),
        leader=cast.city_leader,
        clerk_a=_staff("kd_clerk", "何文书", cast.county_a_gov, "收发员", ["clerk"]),
        clerk_b=cast.county_b_clerk,
        cast=cast,
    )


def dept_staff(username: str, name: str, unit: Any, dept_name: str, roles: list[str]) -> User:
    """A staff member holding a post in a department (科室) of ``unit`` (created if missing)."""
    from zhengwu.core.models import Department, Post, PostAssignment, UnitRole
    from zhengwu.testing.cast import PASSWORD

    user = User.objects.create_user(username, PASSWORD, name=name, kind="staff", primary_unit=unit)
    dept, _created = Department.objects.get_or_create(unit=unit, name=dept_name)
    post = Post.objects.create(unit=unit, department=dept, name=f"{dept_name}科员")
    PostAssignment.objects.create(user=user, post=post)
    for role in roles:
        UnitRole.objects.create(user=user, unit=unit, role=role)
    return user


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


ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: Any) -> Path:
    """A migrated SQLite file, built once per run and copied for each test that needs a file database."""
    base = tmp_path_factory.mktemp("documents-db")
    db = base / "template.sqlite3"
    run_manage(_env(f"sqlite:///{db}", base / "data"), "migrate", "-v", "0")
    return db


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="zhengwu.settings",
        ZHENGWU_DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        ZHENGWU_TESTING="1",
        ZHENGWU_QUEUE_IMMEDIATE="0",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def file_db(transactional_db: Any, migrated_sqlite: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for subprocesses that share a database with this test: on PostgreSQL the test database
    itself (data committed, transactional test), on SQLite a migrated file of its own."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        return _env(url, tmp_path / "data")
    db = tmp_path / "zhengwu.sqlite3"
    shutil.copy(migrated_sqlite, db)
    return _env(f"sqlite:///{db}", tmp_path / "data")


def run_manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout
