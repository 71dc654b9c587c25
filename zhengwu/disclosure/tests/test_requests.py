"""Disclosure on request (依申请公开) on the process engine: 20 working days from submission, the clock
stopped while the applicant supplements (the due date moves by exactly the stopped working days), one
extension by 20 working days with a leader's approval, the reply, publishing it to the portal, and the
trail of every step."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from freezegun import freeze_time

from zhengwu.core.models import AuditEvent
from zhengwu.disclosure import services
from zhengwu.disclosure.models import CatalogueEntry, DisclosureRequest, RequestStatus
from zhengwu.disclosure.services import DisclosureError
from zhengwu.disclosure.tests.conftest import Desk, submit, to_reply
from zhengwu.flow.models import ClockStop, ProcessInstance
from zhengwu.portal import services as portal_services
from zhengwu.portal.models import ItemState
from zhengwu.portal.tests.factories import make_column, make_site, make_staff
from zhengwu.workdays.calendar import Limit, due_at

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def at(day: str, time: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


def _refresh(request: DisclosureRequest) -> DisclosureRequest:
    request.refresh_from_db()
    return request


def test_it_runs_a_request_with_a_supplement_and_one_extension(desk: Desk) -> None:
    with freeze_time(at("2026-03-02")):  # a Monday in an ordinary week
        request = submit(desk)
        assert request.status == RequestStatus.REGISTER
        assert request.due_at == at("2026-03-30", "23:59:59")  # 20 working days
        assert request.number.startswith("YSQ2026-A1-GOV-")
        services.request_register(actor=desk.clerk, request=request, opinion="申请要素齐全，予以受理")
        assert _refresh(request).status == RequestStatus.HANDLE
    with freeze_time(at("2026-03-03", "10:00")):
        supplement = services.request_supplement_ask(
            actor=desk.clerk, request=request, question="请写明所需名单对应的行政村"
        )
        assert _refresh(request).status == RequestStatus.SUPPLEMENT
        assert ClockStop.objects.get(pk=supplement.clock_stop_id).ended_at is None
        with pytest.raises(DisclosureError, match="不在办理环节"):
            services.request_handle(actor=desk.clerk, request=request, action="reply", opinion="答复")
    with freeze_time(at("2026-03-05", "16:00")):  # Wednesday 4 and Thursday 5 do not count
        services.request_supplement_answer(actor=desk.applicant, request=request, answer="崆峒村")
        supplement.refresh_from_db()
        assert supplement.stopped_working_days == 2
        request = _refresh(request)
        assert request.status == RequestStatus.HANDLE
        assert request.due_at == at("2026-04-01", "23:59:59")  # moved by exactly 2 working days
        services.request_handle(
            actor=desk.clerk,
            request=request,
            action="extend",
            opinion="需调取各村档案",
            extension_reason="涉及多个行政村档案，需逐一核对",
        )
        assert _refresh(request).status == RequestStatus.EXTENSION
        with pytest.raises(PermissionError):  # the clerk is no leader
            services.request_extension_decide(actor=desk.clerk, request=request, agree=True, opinion="同意")
        services.request_extension_decide(actor=desk.leader, request=request, agree=True, opinion="同意延期")
        request = _refresh(request)
        assert request.extended and request.status == RequestStatus.HANDLE
        # 40 working days from the start, plus the 2 stopped ones.
        assert request.due_at == due_at(at("2026-03-02"), Limit.parse("42wd"))
        with pytest.raises(DisclosureError, match="只能延长一次"):
            services.request_handle(
                actor=desk.clerk, request=request, action="extend", opinion="再延", extension_reason="再延"
            )
        services.request_handle(actor=desk.clerk, request=request, action="reply", opinion="已核实")
        assert _refresh(request).status == RequestStatus.REPLY
        services.request_reply(
            actor=desk.clerk,
            request=request,
            outcome="public",
            reply_text="经查，崆峒村2025年危房改造补助名单如下：王某某 1.2 万元。",
        )
    request = _refresh(request)
    assert request.status == RequestStatus.ANSWERED and request.outcome == "public"
    instance = ProcessInstance.objects.get(pk=request.instance_id)
    assert instance.status == "completed"
    actions = list(
        AuditEvent.objects.filter(object_type="disclosure.disclosurerequest", object_id=str(request.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "disclosure.request.submit",
        "disclosure.request.register",
        "disclosure.request.supplement_ask",
        "disclosure.request.supplement_answer",
        "disclosure.request.handle",
        "disclosure.request.extension",
        "disclosure.request.handle",
        "disclosure.request.reply",
    ]
    assert AuditEvent.objects.filter(action="flow.instance.extend", object_id=str(instance.pk)).exists()


def test_it_keeps_the_limit_when_the_leader_refuses_the_extension(desk: Desk) -> None:
    with freeze_time(at("2026-03-02")):
        request = submit(desk)
        services.request_register(actor=desk.clerk, request=request)
        services.request_handle(
            actor=desk.clerk, request=request, action="extend", opinion="申请延期", extension_reason="量大"
        )
        services.request_extension_decide(actor=desk.leader, request=request, agree=False, opinion="抓紧办理")
    request = _refresh(request)
    assert not request.extended and request.status == RequestStatus.HANDLE
    assert request.due_at == at("2026-03-30", "23:59:59")


def test_it_keeps_personal_data_encrypted_at_rest(desk: Desk) -> None:
    request = submit(desk, address="平凉市崆峒区西大街 1 号")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT applicant_name, id_number, phone, address FROM disclosure_disclosurerequest WHERE id = %s",
            [request.pk],
        )
        raw = " ".join(cur.fetchone())
    for plain in ("张三", "620802199001011234", "13800001234", "西大街"):
        assert plain not in raw
    loaded = DisclosureRequest.objects.get(pk=request.pk)
    assert loaded.id_number == "620802199001011234"
    assert loaded.name_masked == "张*" and loaded.phone_masked == "138****1234"
    assert loaded.id_number_masked == "6208**********1234"
    trail = AuditEvent.objects.filter(object_type="disclosure.disclosurerequest").values_list(
        "after", flat=True
    )
    assert all("620802199001011234" not in str(a) and "13800001234" not in str(a) for a in trail)


def test_it_publishes_a_public_reply_to_the_portal_and_the_catalogue(desk: Desk, publish_root: Any) -> None:
    cast = desk.cast
    site = make_site("ktz", "崆峒镇人民政府", "county", cast.township_a1_gov)
    column = make_column(site, "政府信息公开", "xxgk")
    reviewer = make_staff("kt_site_reviewer", "韩审核", cast.township_a1_gov, ["reviewer"])
    request = to_reply(desk, submit(desk))
    with pytest.raises(DisclosureError, match="尚未答复"):
        services.request_publish(actor=desk.clerk, request=request, column=column)
    services.request_reply(
        actor=desk.clerk,
        request=request,
        outcome="partial",
        withheld_reason="third_party",
        reply_text="名单（已隐去身份证号）",
    )
    other_site = make_site("bsz", "白水镇人民政府", "county", cast.township_a2_gov)
    with pytest.raises(DisclosureError, match="本单位网站"):
        services.request_publish(
            actor=desk.clerk, request=request, column=make_column(other_site, "公开", "gk")
        )
    item = services.request_publish(actor=desk.clerk, request=request, column=column)
    assert item.state == ItemState.PENDING  # publish review still applies
    with pytest.raises(DisclosureError, match="已公开到门户"):
        services.request_publish(actor=desk.clerk, request=_refresh(request), column=column)
    portal_services.item_approve(actor=reviewer, item=item)
    entry = CatalogueEntry.objects.get(item=item)
    assert entry.is_listed and entry.unit == cast.township_a1_gov
    assert _refresh(request).published_item_id == item.pk


def test_it_tells_the_applicant_of_the_reply_with_a_link_to_their_own_page(desk: Desk) -> None:
    from zhengwu.notify.models import Notice

    request = to_reply(desk, submit(desk))
    services.request_reply(
        actor=desk.clerk, request=request, outcome="not_exist", reply_text="经检索，本机关未制作该信息"
    )
    notices = list(Notice.objects.filter(recipient=desk.applicant).values_list("title", "url"))
    assert (f"您的政府信息公开申请已答复：{request.number}", f"/disclosure/requests/{request.pk}/") in notices
    assert all(url.startswith("/disclosure/") for _title, url in notices)  # never a staff page
