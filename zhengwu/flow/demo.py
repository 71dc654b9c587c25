"""The demo city's processes: the repository's BPMN definitions published, so the sample parallel approval
can be started from /flow/sample/ right after `zhengwu demo`. Registered as a step of the demo
(zhengwu.core.demo); reset removes the cases run on demo units (definitions stay: they are versioned
and harmless, and a later build finds them unchanged)."""

from __future__ import annotations

from zhengwu.core.demo import DemoContext, DemoStep, register_step
from zhengwu.core.demo.data import CITY_CODE


def build(ctx: DemoContext) -> dict[str, int]:
    from zhengwu.flow.management.commands.load_processes import PROCESS_DIR
    from zhengwu.flow.services import definition_publish

    dmn = {p.name: p.read_text(encoding="utf-8") for p in sorted(PROCESS_DIR.glob("*.dmn"))}
    published = 0
    for path in sorted(PROCESS_DIR.glob("*.bpmn")):
        # `zhengwu demo` is an operator's command, like load_processes.
        _definition, created = definition_publish(
            actor=None,
            bpmn_xml=path.read_text(encoding="utf-8"),
            dmn_files=dmn,
            filename=path.name,
            source="repository",
            from_command=True,
        )
        published += int(created)
    return {"process_definitions": published}


def reset(ctx: DemoContext) -> dict[str, int]:
    from zhengwu.flow.models import ProcessInstance, SampleCase

    in_city = {"unit__region__path__startswith": f"{CITY_CODE}/"}
    instances, _ = ProcessInstance.objects.filter(**in_city).delete()
    cases, _ = SampleCase.objects.filter(**in_city).delete()
    return {"process_rows": instances, "sample_cases": cases}


register_step(DemoStep("flow.processes", "流程定义 / process definitions", build, reset))
