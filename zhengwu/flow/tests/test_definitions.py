"""Publishing definitions: admin only, checked before anything is stored, versioned, idempotent."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from zhengwu.core.models import AuditEvent
from zhengwu.flow import services
from zhengwu.flow.engine import DefinitionError
from zhengwu.flow.models import ProcessDefinition

pytestmark = pytest.mark.django_db

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def _xml(name: str) -> str:
    return (PROCESSES / name).read_text(encoding="utf-8")


def test_it_loads_the_repository_once_and_then_reports_unchanged(db: Any) -> None:
    out = StringIO()
    call_command("load_processes", stdout=out)
    assert "sample_parallel_approval v1  新版本" in out.getvalue()
    assert ProcessDefinition.objects.count() == 5
    out = StringIO()
    call_command("load_processes", stdout=out)
    assert out.getvalue().count("未变") == 5 and ProcessDefinition.objects.count() == 5
    sample = ProcessDefinition.objects.get(key="sample_parallel_approval")
    assert sample.name == "并联审批示例" and list(sample.dmn_files) == ["sample_materials.dmn"]
    assert sample.properties == {"legal_limit": "20wd", "promised_limit": "10wd", "warning_before": "1wd"}
    assert (
        sample.steps["review_2"]["lane"] == "并联部门二"
        and sample.steps["review_2"]["props"]["unit"] == "dept_2"
    )
    assert sample.steps["supplement"]["props"]["clock_stop"] == "supplement"
    assert sample.source == "repository" and len(sample.checksum) == 64


def test_it_lets_only_the_platform_system_admin_publish(cast: Any) -> None:
    xml = _xml("simple_approval.bpmn")
    for who in (
        cast.security_admin,
        cast.audit_admin,
        cast.township_admin,
        cast.city_leader,
        cast.citizen,
        None,
    ):
        with pytest.raises(PermissionError):
            services.definition_publish(actor=who, bpmn_xml=xml)
    definition, created = services.definition_publish(actor=cast.system_admin, bpmn_xml=xml)
    assert created and definition.loaded_by == cast.system_admin
    assert AuditEvent.objects.filter(action="flow.definition.publish", object_id=str(definition.pk)).exists()


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("not xml at all", "不是合法的 XML"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "DOCTYPE"),
        ('<root xmlns="urn:x"/>', "不是 BPMN 2.0 文件"),
    ],
)
def test_it_refuses_files_that_are_not_bpmn(cast: Any, xml: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        services.definition_publish(actor=cast.system_admin, bpmn_xml=xml)
    assert not ProcessDefinition.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('name="assignee_role" value="reviewer"', 'name="assignee_role" value="boss"'), "未知的角色"),
        (('name="limit" value="2wd"', 'name="limit" value="two days"'), "无法识别的期限"),
        (('name="limit" value="2wd"', 'name="deadline" value="2wd"'), "未知的扩展属性"),
        (('isExecutable="true"', 'isExecutable="false"'), "恰好包含一个可执行流程"),
        (('targetRef="review"', 'targetRef="nowhere"'), "校验未通过"),
    ],
)
def test_it_names_what_is_wrong_in_a_bpmn_file(cast: Any, change: tuple[str, str], message: str) -> None:
    xml = _xml("simple_approval.bpmn").replace(*change)
    with pytest.raises(DefinitionError, match=message):
        services.definition_publish(actor=cast.system_admin, bpmn_xml=xml)
    assert not ProcessDefinition.objects.exists()


def test_it_refuses_a_process_whose_dmn_table_is_missing(cast: Any) -> None:
    with pytest.raises(DefinitionError, match="materials_route"):
        services.definition_publish(actor=cast.system_admin, bpmn_xml=_xml("sample_parallel_approval.bpmn"))


def test_it_publishes_through_the_upload_page_for_the_system_admin_only(cast: Any, client_for: Any) -> None:
    url = reverse("flow:definition_upload")
    assert client_for(cast.township_admin).get(url).status_code == 403
    assert client_for(cast.security_admin).get(url).status_code == 403
    admin = client_for(cast.system_admin)
    assert admin.get(url).status_code == 200
    bad = admin.post(url, {"bpmn": SimpleUploadedFile("x.bpmn", b"<oops")})
    assert bad.status_code == 400 and "不是合法的 XML" in bad.content.decode()
    assert not ProcessDefinition.objects.exists()
    response = admin.post(
        url,
        {
            "bpmn": SimpleUploadedFile("sample.bpmn", _xml("sample_parallel_approval.bpmn").encode()),
            "dmn": [SimpleUploadedFile("sample_materials.dmn", _xml("sample_materials.dmn").encode())],
        },
    )
    assert response.status_code == 302
    definition = ProcessDefinition.objects.get()
    assert definition.version == 1 and definition.source == "upload"
    page = admin.get(response["Location"]).content.decode()
    assert "并联审批示例" in page and reverse("flow:definition_bpmn", args=[definition.pk]) in page
    assert "bpmn-viewer.production.min.js" in page
    xml = admin.get(reverse("flow:definition_bpmn", args=[definition.pk]))
    assert xml["Content-Type"].startswith("application/xml") and b"sample_parallel_approval" in xml.content
    forbidden = client_for(cast.township_admin).post(
        url, {"bpmn": SimpleUploadedFile("s.bpmn", _xml("simple_approval.bpmn").encode())}
    )
    assert forbidden.status_code == 403 and ProcessDefinition.objects.count() == 1


def test_it_lists_definitions_for_staff(processes: Any, cast: Any, client_for: Any) -> None:
    page = client_for(cast.township_clerk).get(reverse("flow:definitions")).content.decode()
    assert "并联审批示例" in page and "登记审核签发" in page and "发布新流程" not in page
    assert "发布新流程" in client_for(cast.system_admin).get(reverse("flow:definitions")).content.decode()


def test_it_fails_the_command_on_a_broken_file(tmp_path: Path, db: Any) -> None:
    (tmp_path / "broken.bpmn").write_text("<nope", encoding="utf-8")
    with pytest.raises(CommandError, match="1 个文件未能发布"):
        call_command("load_processes", dir=str(tmp_path), stdout=StringIO(), stderr=StringIO())
