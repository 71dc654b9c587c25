"""Process steps: start and complete N instances of a three-step process, next to bare writes.

The target (../shared/TARGETS.md): a process step — completing a to-do — costs at most 3× a bare database
write of the same business row. In one run on one machine this script measures:

* baseline: one transaction that updates the business row the way a step does (status, current step,
  steps done) with nothing else — no engine, no to-do rows, no trail;
* start: ``process_start`` of the three-step ``simple_approval`` process (登记 → 审核 → 签发) for a new
  business row (the row insert included);
* step: ``task_complete`` of each of the three steps (the second and third are role tasks, claimed on
  the way), each in its own transaction with the engine step, the serialised state, the to-do rows, the
  business row, the trail record and the notices;

and prints milliseconds per operation and the step/baseline ratio. Two more figures say where a step's
time goes: the SQL statements one step sends (counted on one review step), and the engine's share —
restoring, running and serialising the workflow of a case at its review step, with no database work. The database is the one the settings
name: the embedded SQLite file in WAL mode by default (a scratch file under the data dir), PostgreSQL with
``DATABASE_URL`` (a scratch ``test_…`` database). Usage::

    .venv/bin/python bench/flow_steps.py [--n 10000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhengwu .venv/bin/python bench/flow_steps.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengwu.settings")
os.environ.setdefault("ZHENGWU_DATA_DIR", "/tmp/zw-bench-flow")
os.environ.setdefault("ZHENGWU_TEST_SQLITE_FILE", "1")  # a real file in WAL mode, as deployed
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="instances (default 10,000)")
    parser.add_argument(
        "--baseline-rounds", type=int, default=3, help="baseline passes around the engine run"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    setup_test_environment(debug=False)  # as served: DEBUG would log (and re-quote) every statement
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)

    from zhengwu.core.models import AccountKind, Post, PostAssignment, Region, Unit, UnitRole, User
    from zhengwu.flow import engine, services
    from zhengwu.flow.models import ProcessInstance, SampleCase, Task, TaskStatus

    call_command("load_processes", verbosity=0)
    region = Region.objects.create(code="620800", name="平凉市", level="city")
    unit = Unit.objects.create(code="BENCH", name="基准测试局", kind="department", region=region)

    def staff(username: str, roles: list[str]) -> User:
        user = User.objects.create(
            username=username, name=username, kind=AccountKind.STAFF, primary_unit=unit
        )
        post = Post.objects.create(unit=unit, name=username)
        PostAssignment.objects.create(user=user, post=post)
        for role in roles:
            UnitRole.objects.create(user=user, unit=unit, role=role)
        return user

    clerk = staff("clerk", ["clerk", "handler"])
    reviewer = staff("reviewer", ["reviewer"])
    leader = staff("leader", ["leader"])
    n = args.n

    def baseline(cases: list[int]) -> float:
        """Three bare writes per case, each its own transaction, the business row only."""
        t0 = time.perf_counter()
        for pk in cases:
            for step in ("审核", "签发", ""):
                with transaction.atomic():
                    SampleCase.objects.filter(pk=pk).update(
                        status="in_progress" if step else "done",
                        current_step=step,
                        steps_done=F("steps_done") + 1,
                        updated_at=timezone.now(),
                    )
        return (time.perf_counter() - t0) / (3 * len(cases))

    def engine_only(sample: list[ProcessInstance]) -> float:
        """Restore, complete the ready user task, run and serialise each case's workflow (nothing stored)."""
        rows = list(ProcessInstance.objects.filter(pk__in=[i.pk for i in sample]))
        definition = services.definition_cached(rows[0].definition_id)
        t0 = time.perf_counter()
        for row in rows:
            workflow = engine.workflow_load(definition, row.state, row.serializer_version)
            task = engine.ready_user_tasks(workflow)[0]
            task.set_data(opinion="同意")
            task.run()
            engine.run_engine(workflow)
            engine.ready_user_tasks(workflow)
            engine.workflow_state(workflow)
        return (time.perf_counter() - t0) / len(rows)

    # Warm up (spec parsing, first queries), not counted.
    for _ in range(20):
        case = SampleCase.objects.create(title="预热", applicant="预热", unit=unit)
        instance = services.process_start(
            actor=clerk, key="simple_approval", business=case, unit=unit, title="预热"
        )
        for actor in (clerk, reviewer, leader):
            task = Task.objects.get(instance=instance, status=TaskStatus.OPEN)
            services.task_complete(actor=actor, task=task, opinion="同意")

    base_rows = [SampleCase.objects.create(title=f"基准{i}", applicant="甲", unit=unit).pk for i in range(n)]
    baselines = [baseline(base_rows)]
    with CaptureQueriesContext(connection) as captured:
        baseline(base_rows[:1])
    base_statements = len(captured.captured_queries) // 3

    t0 = time.perf_counter()
    instances = []
    for i in range(n):
        case = SampleCase.objects.create(title=f"办件{i}", applicant="乙", unit=unit)
        instances.append(
            services.process_start(
                actor=clerk, key="simple_approval", business=case, unit=unit, title=f"办件{i}"
            )
        )
    start_cost = (time.perf_counter() - t0) / n

    step_times: list[float] = []
    engine_cost = 0.0
    statements = 0
    for actor, step in ((clerk, "register"), (reviewer, "review"), (leader, "sign_off")):
        todo = {t.instance_id: t for t in Task.objects.filter(step_id=step, status=TaskStatus.OPEN)}
        if step == "review":
            engine_cost = engine_only(instances[: min(n, 1000)])
            with CaptureQueriesContext(connection) as captured:  # the last case's step, counted
                services.task_complete(actor=actor, task=todo[instances[-1].pk], opinion="同意")
            statements = len(captured.captured_queries)
        t0 = time.perf_counter()
        for instance in instances[:-1] if step == "review" else instances:
            services.task_complete(actor=actor, task=todo[instance.pk], opinion="同意")
        step_times.append((time.perf_counter() - t0) / (n - 1 if step == "review" else n))
        baselines.append(baseline(base_rows))
    for _ in range(max(0, args.baseline_rounds - len(baselines))):
        baselines.append(baseline(base_rows))

    finished = SampleCase.objects.filter(title__startswith="办件", status="done").count()
    assert finished == n, f"only {finished} of {n} cases finished"
    step_cost = sum(step_times) / len(step_times)
    base_cost = statistics.median(baselines)
    vendor = connection.vendor
    print(f"database: {vendor} ({db_name if vendor == 'sqlite' else connection.settings_dict['NAME']})")
    print(f"instances: {n:,} × 3 steps")
    print(
        f"baseline  bare write of the business row : {base_cost * 1000:8.3f} ms  (passes: "
        + ", ".join(f"{b * 1000:.3f}" for b in baselines)
        + ")"
    )
    print(f"start     process_start                   : {start_cost * 1000:8.3f} ms")
    for name, cost in zip(
        ("登记 register (person)", "审核 review (role)", "签发 sign_off (role)"), step_times, strict=True
    ):
        print(f"step      {name:<30}: {cost * 1000:8.3f} ms")
    print(f"step      mean                            : {step_cost * 1000:8.3f} ms")
    print(f"  engine share (restore, run, serialise)  : {engine_cost * 1000:8.3f} ms  (no database work)")
    print(f"  SQL statements in one step              : {statements:5d}     (bare write: {base_statements})")
    print(f"ratio     step / bare write               : {step_cost / base_cost:8.2f}×  (target ≤ 3×)")
    print(f"throughput: {1 / step_cost:,.0f} steps/s, {1 / start_cost:,.0f} starts/s")
    connection.creation.destroy_test_db(db_name, verbosity=0)


if __name__ == "__main__":
    main()
