"""`zhengwu demo` publishes the processes, and its reset clears the cases run on demo units."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from zhengwu.core.models import Unit, User
from zhengwu.flow.models import ProcessDefinition, ProcessInstance, SampleCase
from zhengwu.flow.services import sample_case_start

pytestmark = pytest.mark.django_db


def test_it_publishes_the_processes_with_the_demo_city_and_clears_its_cases_on_reset(client_for: Any) -> None:
    call_command("demo", stdout=io.StringIO())
    assert set(ProcessDefinition.objects.values_list("key", flat=True)) >= {
        "sample_parallel_approval",
        "simple_approval",
        "countersign_review",
        "any_sign_review",
    }
    clerk = User.objects.select_related("primary_unit").get(username="kt_clerk")
    page = client_for(clerk).get("/flow/sample/").content.decode()
    assert "尚未发布" not in page
    lead = clerk.primary_unit
    others = list(Unit.objects.exclude(pk=lead.pk).order_by("path")[:3])
    sample_case_start(actor=clerk, title="演示办件", applicant="张三", lead=lead, departments=others)
    # The demo's disclosure requests run on the engine too; the sample case is the one started here.
    assert ProcessInstance.objects.filter(business_type__model="samplecase").count() == 1
    call_command("demo", "--reset", stdout=io.StringIO())
    # Rebuilt: the sample case is gone (only the demo's own disclosure requests run again).
    assert not ProcessInstance.objects.filter(business_type__model="samplecase").exists()
    assert not SampleCase.objects.exists()
    assert ProcessDefinition.objects.filter(key="sample_parallel_approval").count() == 1
