"""Receiving inside a unit (收文): a signed copy is registered with the unit's receiving number and handled
拟办 → 批办 → 承办 (departments in parallel, each with its own limit) → 答复 → 归档 on the process engine,
circulated for reading (传阅) with read receipts, every opinion kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from zhengwu.documents import services
from zhengwu.documents.models import DocumentReceipt, IncomingPart, IncomingRecord, IncomingStatus
from zhengwu.documents.services import DocumentError
from zhengwu.documents.tests.conftest import Office, dept_staff, pdf, send_notice
from zhengwu.flow import services as flow_services
from zhengwu.flow.models import Task, TaskStatus
from zhengwu.testing.cast import _staff

pytestmark = pytest.mark.django_db


def _signed(office: Office, title: str) -> DocumentReceipt:
    doc = send_notice(office, title=title)
    receipt = DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    return services.receipt_receive(actor=office.clerk_a, receipt=receipt)


def _open(record: IncomingRecord) -> Task:
    return Task.objects.get(instance_id=record.instance_id, status=TaskStatus.OPEN)


def test_it_registers_signed_copies_with_consecutive_receiving_numbers(office: Office) -> None:
    year = timezone.localdate().year
    first = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "第一份"))
    second = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "第二份"))
    assert (first.receiving_number, second.receiving_number) == (f"收〔{year}〕1号", f"收〔{year}〕2号")
    assert first.status == IncomingStatus.PROPOSE
    with pytest.raises(DocumentError, match="该公文已登记"):
        services.incoming_register(actor=office.clerk_a, receipt=first.receipt)


def test_it_registers_only_signed_copies_and_only_by_a_clerk(office: Office, client_for: Any) -> None:
    doc = send_notice(office)
    receipt = DocumentReceipt.objects.get(document=doc, unit=office.cast.county_a_gov)
    with pytest.raises(DocumentError, match="请先签收"):
        services.incoming_register(actor=office.clerk_a, receipt=receipt)
    receipt = services.receipt_receive(actor=office.clerk_a, receipt=receipt)
    assert (
        client_for(office.cast.county_reviewer)
        .post(f"/documents/incoming/{receipt.pk}/register/")
        .status_code
        == 403
    )
    assert client_for(office.clerk_b).post(f"/documents/incoming/{receipt.pk}/register/").status_code == 404
    assert IncomingRecord.objects.count() == 0
    assert client_for(office.clerk_a).post(f"/documents/incoming/{receipt.pk}/register/").status_code == 302
    page = client_for(office.clerk_a).get(f"/documents/incoming/{receipt.pk}/").content.decode()
    assert "收〔" in page and "拟办" in page


# --- Departments in parallel, circulation, reply ------------------------------------------------------


@dataclass
class Receiving:
    office: Office
    leader: Any
    emergency: Any  # handler in 应急科 (lead)
    forestry: Any  # handler in 林业科 (co-handler)
    reader: Any  # a colleague the leader circulates to
    dept_emergency: Any
    dept_forestry: Any
    record: IncomingRecord


@pytest.fixture
def rcv(office: Office) -> Receiving:
    from zhengwu.core.models import Department

    a = office.cast.county_a_gov
    leader = _staff("kd_leader", "韩区长", a, "区长", ["leader"])
    emergency = dept_staff("kd_yj", "应急科王科长", a, "应急科", ["handler"])
    forestry = dept_staff("kd_ly", "林业科李科长", a, "林业科", ["handler"])
    reader = dept_staff("kd_reader", "赵副区长", a, "领导班子", [])
    record = services.incoming_register(actor=office.clerk_a, receipt=_signed(office, "森林防火通知"))
    flow_services.task_complete(
        actor=office.clerk_a, task=_open(record), opinion="拟请应急科牵头，林业科配合"
    )
    return Receiving(
        office,
        leader,
        emergency,
        forestry,
        reader,
        Department.objects.get(unit=a, name="应急科"),
        Department.objects.get(unit=a, name="林业科"),
        IncomingRecord.objects.get(pk=record.pk),
    )


def _instruct_post(r: Receiving, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "departments": [r.dept_emergency.pk, r.dept_forestry.pk],
        f"role_{r.dept_emergency.pk}": "lead",
        f"days_{r.dept_emergency.pk}": "3",
        f"handler_{r.dept_emergency.pk}": r.emergency.pk,
        f"role_{r.dept_forestry.pk}": "co",
        f"days_{r.dept_forestry.pk}": "7",
        f"handler_{r.dept_forestry.pk}": r.forestry.pk,
        "needs_reply": "1",
        "opinion": "请应急科牵头，林业科配合，按时办结",
    }
    data.update(extra)
    return data


def _page(client: Any, record: IncomingRecord) -> str:
    response = client.get(f"/documents/incoming/{record.receipt_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_sends_each_department_its_own_todo_with_its_own_limit_and_keeps_every_opinion(
    rcv: Receiving, client_for: Any
) -> None:
    from zhengwu.workdays.calendar import Limit, due_at

    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    assert client_for(r.leader).post(url + "instruct/", _instruct_post(r)).status_code == 302
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.HANDLE and r.record.needs_reply
    parts = {p.department_id: p for p in IncomingPart.objects.filter(record=r.record).select_related("task")}
    lead, co = parts[r.dept_emergency.pk], parts[r.dept_forestry.pk]
    assert (lead.role, co.role) == ("lead", "co")
    # One open to-do per department, each for its own handler, each due after its own working days.
    assert lead.task is not None and co.task is not None
    assert (lead.task.assignee_id, co.task.assignee_id) == (r.emergency.pk, r.forestry.pk)
    assert lead.task.due_at == due_at(lead.task.started_at, Limit.parse("3wd"))
    assert co.task.due_at == due_at(co.task.started_at, Limit.parse("7wd"))
    assert lead.task.due_at < co.task.due_at
    from zhengwu.flow.selectors import todos_for

    assert [t.pk for t in todos_for(r.emergency)] == [lead.task.pk]
    assert [t.pk for t in todos_for(r.forestry)] == [co.task.pk]

    # The forestry handler cannot complete the emergency department's part, by the page or the flow.
    before = Task.objects.get(pk=lead.task.pk)
    response = client_for(r.forestry).post(url + "step/", {"task": lead.task.pk, "opinion": "代办"})
    assert response.status_code == 403
    assert (
        client_for(r.forestry).post(f"/flow/tasks/{lead.task.pk}/complete/", {"opinion": "代办"}).status_code
        == 404
    )
    after = Task.objects.get(pk=lead.task.pk)
    assert (after.status, after.opinion) == (TaskStatus.OPEN, before.opinion)

    # Each department completes its own part; the reply waits for both.
    assert (
        client_for(r.forestry)
        .post(url + "step/", {"task": co.task.pk, "opinion": "林区巡护已加强"})
        .status_code
        == 302
    )
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.HANDLE
    assert (
        client_for(r.emergency)
        .post(url + "step/", {"task": lead.task.pk, "opinion": "已部署落实"})
        .status_code
        == 302
    )
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.REPLY
    reply = _open(r.record)
    assert (reply.step_id, reply.assignee_id) == ("reply", r.emergency.pk)  # the lead department replies
    assert (
        client_for(r.emergency)
        .post(url + "step/", {"task": reply.pk, "opinion": "已书面答复市政府"})
        .status_code
        == 302
    )
    archive = _open(r.record)
    assert archive.step_id == "archive"
    assert (
        client_for(r.office.clerk_a).post(url + "step/", {"task": archive.pk, "opinion": "归档"}).status_code
        == 302
    )
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.DONE
    opinions = [
        (t.name, t.completed_by.name, t.opinion)
        for t in Task.objects.filter(instance_id=r.record.instance_id)
        .select_related("completed_by")
        .order_by("completed_at", "id")
    ]
    assert opinions[1:] == [
        ("拟办", "何文书", "拟请应急科牵头，林业科配合"),
        ("批办", "韩区长", "请应急科牵头，林业科配合，按时办结"),
        ("承办", "林业科李科长", "林区巡护已加强"),
        ("承办", "应急科王科长", "已部署落实"),
        ("答复", "应急科王科长", "已书面答复市政府"),
        ("归档", "何文书", "归档"),
    ]
    page = _page(client_for(r.office.clerk_a), r.record)
    for text in (
        "应急科",
        "林业科",
        "主办",
        "协办",
        "3 个工作日",
        "7 个工作日",
        "林区巡护已加强",
        "已书面答复市政府",
    ):
        assert text in page


def test_it_skips_the_reply_when_none_is_asked(rcv: Receiving) -> None:
    r = rcv
    services.incoming_instruct(
        actor=r.leader,
        record=r.record,
        parts=[{"department": r.dept_forestry.pk, "role": "lead", "days": 2}],
        needs_reply=False,
        opinion="林业科阅办",
    )
    task = _open(r.record)
    assert task.assignee_id == r.forestry.pk  # the department's handler by default
    services.incoming_step_complete(actor=r.forestry, record=r.record, task_id=task.pk, opinion="已阅办")
    assert _open(r.record).step_id == "archive"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"departments": []}, "请至少选择一个承办科室"),
        ({"days_DEPT": "0"}, "办理时限应为 1 至 60 个工作日"),
        ({"days_DEPT": "999"}, "办理时限应为 1 至 60 个工作日"),
        ({"days_DEPT": "三天"}, "请为科室“应急科”填写办理时限"),
        ({"role_DEPT": "co"}, "请指定且只指定一个主办科室"),
        ({"role_OTHER": "lead"}, "请指定且只指定一个主办科室"),
        ({"handler_DEPT": "OTHER_HANDLER"}, "所选承办人不在科室“应急科”任职"),
        ({"opinion": " "}, "请填写批办意见"),
        ({"departments": ["FOREIGN"]}, "承办科室不存在或不属于本单位"),
    ],
)
def test_it_refuses_a_bad_instruction_in_chinese_and_writes_nothing(
    rcv: Receiving, client_for: Any, change: dict[str, Any], message: str
) -> None:
    from zhengwu.core.models import Department

    r = rcv
    foreign = Department.objects.create(unit=r.office.cast.county_b_gov, name="外单位科室")
    data = _instruct_post(r)
    for key, value in change.items():
        key = key.replace("DEPT", str(r.dept_emergency.pk)).replace("OTHER", str(r.dept_forestry.pk))
        if value == "OTHER_HANDLER":
            value = r.forestry.pk
        if value == ["FOREIGN"]:
            value = [foreign.pk]
        data[key] = value
    response = client_for(r.leader).post(f"/documents/incoming/{r.record.receipt_id}/instruct/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert IncomingPart.objects.count() == 0
    assert _open(r.record).step_id == "instruct"
    r.record.refresh_from_db()
    assert (r.record.status, r.record.instruct_round) == (IncomingStatus.INSTRUCT, 0)


def test_it_refuses_a_second_instruction_and_a_wrong_state(rcv: Receiving, client_for: Any) -> None:
    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/instruct/"
    leader = client_for(r.leader)
    assert leader.post(url, _instruct_post(r)).status_code == 302
    again = leader.post(url, _instruct_post(r))  # double submit
    assert again.status_code == 400 and "不在批办环节" in again.content.decode()
    assert IncomingPart.objects.count() == 2
    assert Task.objects.filter(instance_id=r.record.instance_id, step_id="handle").count() == 2
    # 批办 cannot be skipped from the generic to-do page either: it needs the departments.
    other = services.incoming_register(actor=r.office.clerk_a, receipt=_signed(r.office, "第二份"))
    early = leader.post(f"/documents/incoming/{other.receipt_id}/instruct/", _instruct_post(r))
    assert early.status_code == 400 and "不在批办环节" in early.content.decode()  # still at 拟办
    # A step of another record, or a made-up one, is refused without touching either record.
    wrong = client_for(r.office.clerk_a).post(
        f"/documents/incoming/{other.receipt_id}/step/",
        {"task": IncomingPart.objects.filter(record=r.record).first().task_id, "opinion": "x"},
    )
    assert wrong.status_code == 400 and "办理环节不存在" in wrong.content.decode()
    bogus = client_for(r.office.clerk_a).post(f"/documents/incoming/{other.receipt_id}/step/", {"task": "x"})
    assert bogus.status_code == 400
    flow_services.task_complete(actor=r.office.clerk_a, task=_open(other), opinion="请领导批示")
    task = _open(other)
    response = leader.post(f"/flow/tasks/{task.pk}/complete/", {"opinion": "同意"})
    assert (
        response.status_code == 400 and "批办须在收文页面选择承办科室和办理时限" in response.content.decode()
    )
    assert _open(other).pk == task.pk
    # Only a leader instructs.
    response = client_for(r.emergency).post(
        f"/documents/incoming/{other.receipt_id}/instruct/", _instruct_post(r)
    )
    assert response.status_code == 403
    assert not IncomingPart.objects.filter(record=other).exists()


def test_it_keeps_other_units_out_by_guessed_ids(rcv: Receiving, client_for: Any) -> None:
    r = rcv
    outsider = client_for(r.office.clerk_b)  # county B's clerk
    base = f"/documents/incoming/{r.record.receipt_id}/"
    assert outsider.get(base).status_code == 404
    for action in ("instruct/", "step/", "circulate/", "comment/"):
        assert (
            outsider.post(
                base + action, _instruct_post(r) | {"recipients": [r.reader.pk], "text": "x"}
            ).status_code
            == 404
        )
    assert client_for(r.office.cast.outsider).get(base).status_code == 404
    assert IncomingPart.objects.count() == 0
    assert _open(r.record).step_id == "instruct"


def test_it_circulates_for_reading_with_receipts_and_keeps_readers_opinions(
    rcv: Receiving, client_for: Any
) -> None:
    from zhengwu.flow.models import ReadItem
    from zhengwu.workbench.selectors import workbench_for

    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    leader = client_for(r.leader)
    response = leader.post(url + "circulate/", {"recipients": [r.reader.pk, r.forestry.pk], "note": "请阅"})
    assert response.status_code == 302
    # Reading does not hold up the handling: the leader instructs while both are still unread.
    assert leader.post(url + "instruct/", _instruct_post(r)).status_code == 302
    assert ReadItem.objects.filter(instance_id=r.record.instance_id, read_at__isnull=True).count() == 2

    board = workbench_for(r.reader)
    assert [i.title for i in board["to_read"]] == [f"收文：{r.record.receipt.title}"]
    item = board["to_read"][0]
    opened = client_for(r.reader).get(item.get_absolute_url())
    assert opened.status_code == 302 and opened["Location"] == url  # read on the record page
    item.refresh_from_db()
    assert item.read_at is not None
    assert workbench_for(r.reader)["to_read"] == []
    reader = client_for(r.reader)
    assert reader.post(url + "comment/", {"text": "同意，请林业科加强夜间巡查"}).status_code == 302
    assert reader.post(url + "comment/", {"text": "  "}).status_code == 400

    page = _page(leader, r.record)
    assert "赵副区长" in page and "已阅" in page and "未阅" in page  # forestry has not opened it yet
    assert "同意，请林业科加强夜间巡查" in page
    # The forestry handler opens the record itself: that is their read receipt too.
    _page(client_for(r.forestry), r.record)
    assert not ReadItem.objects.filter(instance_id=r.record.instance_id, read_at__isnull=True).exists()

    # Readers' opinions survive the steps that follow.
    for t in Task.objects.filter(instance_id=r.record.instance_id, status=TaskStatus.OPEN, step_id="handle"):
        services.incoming_step_complete(actor=t.assignee, record=r.record, task_id=t.pk, opinion="办结")
    assert "同意，请林业科加强夜间巡查" in _page(leader, r.record)


def test_it_refuses_bad_circulation(rcv: Receiving, client_for: Any) -> None:
    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    leader = client_for(r.leader)
    assert leader.post(url + "circulate/", {"recipients": []}).status_code == 400
    response = leader.post(url + "circulate/", {"recipients": [r.office.clerk_b.pk]})
    assert response.status_code == 400 and "只能传阅给本单位在岗的工作人员" in response.content.decode()
    assert leader.post(url + "circulate/", {"recipients": ["abc"]}).status_code == 400
    # Someone not involved (not leader, clerk or handler of the record) cannot circulate it.
    assert client_for(r.reader).post(url + "circulate/", {"recipients": [r.forestry.pk]}).status_code == 403
    # Only a reader writes a reading opinion.
    assert client_for(r.forestry).post(url + "comment/", {"text": "意见"}).status_code == 403
    from zhengwu.flow.models import ReadItem

    assert not ReadItem.objects.exists()
    assert leader.post(url + "circulate/", {"recipients": [r.reader.pk]}).status_code == 302
    again = leader.post(url + "circulate/", {"recipients": [r.reader.pk]})
    assert again.status_code == 400 and "未阅" in again.content.decode()
    assert ReadItem.objects.count() == 1


def test_it_cards_each_department_on_its_own_due_date(rcv: Receiving, client_for: Any) -> None:
    import datetime as dt

    from zhengwu.flow.deadlines import deadline_sweep

    r = rcv
    services.incoming_instruct(
        actor=r.leader,
        record=r.record,
        parts=[
            {"department": r.dept_emergency.pk, "role": "lead", "days": 1},
            {"department": r.dept_forestry.pk, "role": "co", "days": 20},
        ],
        needs_reply=False,
        opinion="限期办理",
    )
    parts = {p.department_id: p.task for p in IncomingPart.objects.select_related("task")}
    late = parts[r.dept_emergency.pk]
    assert late is not None and late.due_at is not None
    deadline_sweep(now=late.due_at + dt.timedelta(hours=1))
    states = dict(IncomingPart.objects.values_list("department_id", "task__deadline_state"))
    assert states == {r.dept_emergency.pk: "yellow", r.dept_forestry.pk: "normal"}
    page = _page(client_for(r.leader), r.record)
    assert "黄牌" in page
    # The unit's leader sees the late department's step on the carded list (超期督办清单), not the other.
    watch = client_for(r.leader).get("/flow/deadlines/").content.decode()
    assert "应急科王科长" in watch and "林业科李科长" not in watch


def test_it_links_the_reply_to_an_outgoing_document(office: Office, client_for: Any) -> None:
    """A 请示 from county A to the city: the city's lead department drafts the 批复 from the record."""
    from zhengwu.core.models import Department

    city = office.cast.city_gov
    request_doc = services.document_create(
        actor=office.clerk_a,
        unit=office.cast.county_a_gov,
        doc_type="request",
        title="关于申请防火物资的请示",
        number_code="平区政",
        body=pdf(),
    )
    steps = [
        ("draft", office.clerk_a),
        ("check", _staff("kd_reviewer2", "审核员", office.cast.county_a_gov, "秘书", ["reviewer"])),
        ("sign_off", _staff("kd_leader2", "区长", office.cast.county_a_gov, "区长", ["leader"])),
        ("number", office.clerk_a),
        ("seal", office.clerk_a),
        ("distribute", office.clerk_a),
    ]
    for _step, actor in steps:
        request_doc = services.document_step_complete(actor=actor, document=request_doc, opinion="同意")
    receipt = DocumentReceipt.objects.get(document=request_doc, unit=city)
    receipt = services.receipt_receive(actor=office.drafter, receipt=receipt)
    record = services.incoming_register(actor=office.drafter, receipt=receipt)
    flow_services.task_complete(actor=office.drafter, task=_open(record), opinion="拟请应急科办理")
    handler = dept_staff("city_yj", "市应急科", city, "应急科", ["handler"])
    services.incoming_instruct(
        actor=office.leader,
        record=record,
        parts=[
            {"department": Department.objects.get(unit=city, name="应急科").pk, "role": "lead", "days": 5}
        ],
        needs_reply=True,
        opinion="请应急科研究答复",
    )
    page = _page(client_for(handler), record)
    assert f"?answers={record.pk}" in page
    response = client_for(handler).post(
        "/documents/new/",
        {
            "answers": record.pk,
            "doc_type": "reply",
            "title": "关于同意拨付防火物资的批复",
            "number_code": "平政复",
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    reply = record.reply_document
    assert reply is not None and reply.reply_to_id == request_doc.pk and reply.doc_type == "reply"
    assert "关于同意拨付防火物资的批复" in _page(client_for(office.leader), record)
    # Another unit cannot draft a reply for this record by its id.
    assert client_for(office.clerk_b).get(f"/documents/new/?answers={record.pk}").status_code == 404


def test_it_holds_the_archive_for_unread_readers_only_when_the_instruction_says_so(
    rcv: Receiving, client_for: Any
) -> None:
    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    leader = client_for(r.leader)
    data = _instruct_post(r, needs_reply="", read_before_archive="1")
    assert leader.post(url + "instruct/", data).status_code == 302
    assert leader.post(url + "circulate/", {"recipients": [r.reader.pk]}).status_code == 302
    for t in Task.objects.filter(instance_id=r.record.instance_id, status=TaskStatus.OPEN, step_id="handle"):
        services.incoming_step_complete(actor=t.assignee, record=r.record, task_id=t.pk, opinion="办结")
    archive = _open(r.record)
    assert archive.step_id == "archive"
    clerk = client_for(r.office.clerk_a)
    refused = clerk.post(url + "step/", {"task": archive.pk, "opinion": "归档"})
    assert refused.status_code == 400 and "尚未阅读：赵副区长" in refused.content.decode()
    generic = clerk.post(f"/flow/tasks/{archive.pk}/complete/", {"opinion": "归档"})
    assert generic.status_code == 400
    assert _open(r.record).pk == archive.pk
    _page(client_for(r.reader), r.record)  # the reader opens it
    assert clerk.post(url + "step/", {"task": archive.pk, "opinion": "归档"}).status_code == 302
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.DONE


def test_it_starts_a_new_round_of_departments_when_a_part_is_sent_back_to_the_instruction(
    rcv: Receiving, client_for: Any
) -> None:
    r = rcv
    services.incoming_instruct(
        actor=r.leader,
        record=r.record,
        parts=[
            {"department": r.dept_emergency.pk, "role": "lead", "days": 3},
            {"department": r.dept_forestry.pk, "role": "co", "days": 3},
        ],
        needs_reply=False,
        opinion="两科室办理",
    )
    forestry_task = IncomingPart.objects.get(department=r.dept_forestry).task
    assert forestry_task is not None
    targets = dict((name, tid) for tid, name in flow_services.send_back_targets(forestry_task))
    flow_services.task_send_back(
        actor=r.forestry, task=forestry_task, target=targets["批办"], reason="本科室不负责此项，请改派"
    )
    r.record.refresh_from_db()
    assert r.record.status == IncomingStatus.INSTRUCT
    open_steps = list(Task.objects.filter(instance_id=r.record.instance_id, status=TaskStatus.OPEN))
    assert [t.step_id for t in open_steps] == ["instruct"]  # the other department's to-do is closed too
    services.incoming_instruct(
        actor=r.leader,
        record=r.record,
        parts=[{"department": r.dept_emergency.pk, "role": "lead", "days": 2}],
        needs_reply=False,
        opinion="改由应急科单独办理",
    )
    r.record.refresh_from_db()
    assert r.record.instruct_round == 2
    current = list(IncomingPart.objects.filter(record=r.record, round=2).select_related("task"))
    assert [(p.department_id, p.task.assignee_id if p.task else None) for p in current] == [
        (r.dept_emergency.pk, r.emergency.pk)
    ]
    page = _page(client_for(r.leader), r.record)
    assert "本科室不负责此项，请改派" in page and "改由应急科单独办理" in page and "两科室办理" in page
    services.incoming_step_complete(
        actor=r.emergency, record=r.record, task_id=current[0].task.pk, opinion="办结"
    )
    assert _open(r.record).step_id == "archive"


def test_it_lets_the_leader_urge_one_department_from_the_record(rcv: Receiving, client_for: Any) -> None:
    from zhengwu.notify.models import Notice

    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    leader = client_for(r.leader)
    assert leader.post(url + "instruct/", _instruct_post(r)).status_code == 302
    co = IncomingPart.objects.get(department=r.dept_forestry).task
    assert co is not None
    before = Notice.objects.filter(recipient=r.forestry).count()
    assert leader.post(url + "urge/", {"task": co.pk, "note": "请加快"}).status_code == 302
    co.refresh_from_db()
    assert co.urge_count == 1
    assert Notice.objects.filter(recipient=r.forestry).count() == before + 1
    assert not Notice.objects.filter(recipient=r.emergency, title__startswith="催办").exists()
    again = leader.post(url + "urge/", {"task": co.pk})
    assert again.status_code == 400 and "刚刚催办过" in again.content.decode()
    # A handler is not the one to urge another department; another unit cannot even see it.
    assert client_for(r.emergency).post(url + "urge/", {"task": co.pk}).status_code == 403
    assert client_for(r.office.clerk_b).post(url + "urge/", {"task": co.pk}).status_code == 404
    co.refresh_from_db()
    assert co.urge_count == 1
    assert "已催办 1 次" in _page(leader, r.record)


def test_it_exports_the_archived_record_with_every_step_part_reader_and_digest(
    rcv: Receiving, client_for: Any
) -> None:
    import io
    import json
    import zipfile

    from zhengwu.lib.gmcrypto import sm3_hex

    r = rcv
    url = f"/documents/incoming/{r.record.receipt_id}/"
    leader = client_for(r.leader)
    assert leader.post(url + "instruct/", _instruct_post(r, needs_reply="")).status_code == 302
    assert leader.post(url + "circulate/", {"recipients": [r.reader.pk]}).status_code == 302
    _page(client_for(r.reader), r.record)
    client_for(r.reader).post(url + "comment/", {"text": "阅，同意"})
    early = leader.get(url + "archive.zip")
    assert early.status_code == 400 and "收文归档后才能导出归档包" in early.content.decode()
    for t in Task.objects.filter(instance_id=r.record.instance_id, status=TaskStatus.OPEN, step_id="handle"):
        services.incoming_step_complete(
            actor=t.assignee, record=r.record, task_id=t.pk, opinion=f"{t.assignee.name}办结"
        )
    services.incoming_step_complete(
        actor=r.office.clerk_a, record=r.record, task_id=_open(r.record).pk, opinion="归档"
    )
    assert client_for(r.office.clerk_b).get(url + "archive.zip").status_code == 404
    response = client_for(r.office.clerk_a).get(url + "archive.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    sums = dict(line.split("  ", 1)[::-1] for line in archive.read("SM3SUMS").decode().splitlines())
    assert set(sums) == set(archive.namelist()) - {"SM3SUMS"}
    assert all(sm3_hex(archive.read(name)) == digest for name, digest in sums.items())
    meta = json.loads(archive.read("metadata.json"))
    r.record.refresh_from_db()
    assert meta["receiving_number"] == r.record.receiving_number
    assert meta["receipt"]["received_digest"] == r.record.receipt.received_digest
    assert [s["opinion"] for s in meta["steps"]][1:3] == [
        "拟请应急科牵头，林业科配合",
        "请应急科牵头，林业科配合，按时办结",
    ]
    assert {(p["department__name"], p["role"], p["limit_days"]) for p in meta["parts"]} == {
        ("应急科", "lead", 3),
        ("林业科", "co", 7),
    }
    assert [(x["recipient__name"], x["read_at"] is not None) for x in meta["readings"]] == [
        ("赵副区长", True)
    ]
    assert [c["text"] for c in meta["comments"]] == ["阅，同意"]
    actions = {e["action"] for e in meta["trail"]}
    assert {"documents.incoming.register", "documents.incoming.instruct", "flow.task.complete"} <= actions
