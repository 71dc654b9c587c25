"""Demo disclosure (演示政务公开): the default category tree, the catalogue entries of the demo portal's
items (made by the portal's bulk publishing itself), and three applications to 崆峒镇 in different states
— waiting to be registered, waiting for the applicant's supplement, answered 予以公开. Registered as a
step of `zhengwu demo` (zhengwu.core.demo); a handful of trail records, a few engine steps."""

from __future__ import annotations

from django.utils import timezone

from zhengwu.core.demo import DemoContext, DemoStep, register_step
from zhengwu.core.demo.data import CITY_CODE
from zhengwu.core.models import Unit, User
from zhengwu.disclosure import services
from zhengwu.disclosure.models import (
    AnnualReport,
    CatalogueEntry,
    DisclosureRequest,
    SequenceCounter,
)

APPLICATIONS = (
    ("citizen", "2025年崆峒镇农村危房改造补助资金发放名单", ""),
    ("enterprise", "崆峒镇工业园区土地征收补偿标准", "supplement"),
    ("citizen", "崆峒镇2025年度财政预算执行情况", "answered"),
)


def build(ctx: DemoContext) -> dict[str, int]:
    services.categories_ensure()
    township = Unit.objects.filter(short_name="崆峒镇", region__path__startswith=f"{CITY_CODE}/").first()
    clerk = User.objects.filter(username="kt_clerk").first()
    if township is None or clerk is None:
        return {"requests": 0}
    made = 0
    for i, (username, description, state) in enumerate(APPLICATIONS):
        applicant = User.objects.filter(username=username).first()
        if applicant is None:
            continue
        request = services.request_submit(
            actor=applicant,
            unit=township,
            applicant_name=applicant.name,
            id_number=f"62080219900101{1000 + i}" if applicant.kind == "citizen" else "91620800MA71XXXX0X",
            phone=applicant.mobile or "0933-8211000",
            email=applicant.email or "",
            description=description,
            purpose="了解政策落实情况",
            delivery_form="online",
            token=f"demo-disclosure-{i}-{int(ctx.now.timestamp())}",
        )
        if state:
            services.request_register(actor=clerk, request=request)
        if state == "supplement":
            services.request_supplement_ask(
                actor=clerk, request=request, question="请写明所需信息涉及的具体地块或村组"
            )
        if state == "answered":
            services.request_handle(actor=clerk, request=request, action="reply", opinion="已查明")
            services.request_reply(
                actor=clerk,
                request=request,
                outcome="public",
                reply_text="崆峒镇2025年度财政预算执行情况已于镇政府网站公开，全文如下：……",
            )
        made += 1
    entries = CatalogueEntry.objects.filter(unit__region__path__startswith=f"{CITY_CODE}/").count()
    return {"requests": made, "catalogue_entries": entries, "year": timezone.localdate().year}


def reset(ctx: DemoContext) -> dict[str, int]:
    in_city = {"unit__region__path__startswith": f"{CITY_CODE}/"}
    requests = DisclosureRequest.objects.filter(**in_city)
    entries = CatalogueEntry.objects.filter(**in_city)
    counts = {"requests": requests.count(), "catalogue_entries": entries.count()}
    requests.delete()
    entries.delete()
    AnnualReport.objects.filter(**in_city).delete()
    SequenceCounter.objects.filter(**in_city).delete()
    return counts


register_step(DemoStep("disclosure", "政务公开 / information disclosure", build, reset))
