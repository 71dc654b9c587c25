"""The demo city (`zhengwu demo`): its size, its shape, its people and their sign-in, and that it is the
same city on every run.

The city is built once for this module inside an outer transaction that is rolled back at the end; each
test runs in a savepoint inside it, so tests that reset or rebuild leave the next test the same city.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import RequestFactory

from zhengwu.core import access
from zhengwu.core.audit import audit_verify
from zhengwu.core.demo import (
    DEMO_PASSWORD,
    NAMED_ACCOUNTS,
    DemoContext,
    DemoReport,
    DemoStep,
    demo_build,
    demo_exists,
    demo_reset,
    register_step,
)
from zhengwu.core.demo.org import plan_city
from zhengwu.core.demo_accounts import demo_accounts_text
from zhengwu.core.fields import blind_index
from zhengwu.core.models import (
    AccountKind,
    AuditEvent,
    Post,
    PostAssignment,
    Region,
    RegionLevel,
    Unit,
    UnitGroup,
    UnitKind,
    UnitRole,
    User,
)
from zhengwu.core.selectors import unit_group_members


@pytest.fixture(scope="module")
def demo_city(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoReport]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield demo_build(scale="small", log=lambda line: None)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def city(demo_city: DemoReport, db: Any) -> DemoReport:
    return demo_city


def _snapshot() -> dict[str, Any]:
    return {
        "regions": list(Region.objects.order_by("code").values_list("code", "name", "level", "parent__code")),
        "units": list(
            Unit.objects.order_by("code").values_list("code", "name", "short_name", "kind", "parent__code")
        ),
        "staff": list(
            User.objects.filter(kind=AccountKind.STAFF)
            .order_by("username")
            .values_list("username", "name", "primary_unit__code")
        ),
        "posts": sorted(
            PostAssignment.objects.values_list("user__username", "post__unit__code", "post__name")
        ),
        "roles": sorted(UnitRole.objects.values_list("user__username", "unit__code", "role")),
        "groups": list(UnitGroup.objects.order_by("code").values_list("code", "name")),
        "public": User.objects.exclude(kind=AccountKind.STAFF).count(),
    }


def test_it_builds_a_city_of_the_seed_reports_size(city: DemoReport) -> None:
    assert Region.objects.filter(level=RegionLevel.CITY).get().name == "平凉市"
    counties = dict(Region.objects.filter(level=RegionLevel.COUNTY).values_list("code", "name"))
    assert counties == {
        "620802": "崆峒区",
        "620821": "泾川县",
        "620822": "灵台县",
        "620823": "崇信县",
        "620881": "华亭市",
        "620825": "庄浪县",
        "620826": "静宁县",
    }
    assert 95 <= Region.objects.filter(level=RegionLevel.TOWNSHIP).count() <= 110
    assert Region.objects.filter(level=RegionLevel.VILLAGE).count() >= 400
    assert 850 <= Unit.objects.count() <= 920
    assert 2_800 <= User.objects.filter(kind=AccountKind.STAFF).count() <= 3_300
    assert User.objects.filter(kind=AccountKind.CITIZEN).count() >= 200
    assert User.objects.filter(kind=AccountKind.ENTERPRISE).count() >= 50
    kinds = Counter(Unit.objects.values_list("kind", flat=True))
    assert kinds[UnitKind.TOWNSHIP] == Region.objects.filter(level=RegionLevel.TOWNSHIP).count()
    assert 55 <= Unit.objects.filter(kind=UnitKind.DEPARTMENT, level=RegionLevel.CITY).count() <= 65
    for kind in ("party", "congress", "government", "cppcc", "court", "procuratorate"):
        assert kinds[kind] == 8  # the city's and each of the seven counties'
    for name in (
        "平凉市发展和改革委员会",
        "平凉市财政局",
        "平凉市信息化办公室",
        "平凉市监察局",
        "平凉市政务服务中心",
    ):
        assert Unit.objects.filter(name=name, level=RegionLevel.CITY).exists(), name
    assert Unit.objects.filter(short_name="市税务局", kind=UnitKind.VERTICAL).exists()
    # Every township government is on the platform, with its sections and its people.
    township = Unit.objects.get(short_name="崆峒镇")
    assert {"党政办公室", "便民服务中心"} <= set(township.departments.values_list("name", flat=True))
    assert Post.objects.filter(unit=township, name="文书").exists()


def test_it_gives_every_unit_a_clerk_a_handler_a_reviewer_and_a_leader(city: DemoReport) -> None:
    held: dict[int, set[str]] = defaultdict(set)
    for unit_id, role in UnitRole.objects.values_list("unit_id", "role"):
        held[unit_id].add(role)
    lacking = [
        name
        for pk, name in Unit.objects.values_list("pk", "name")
        if not {"clerk", "handler", "reviewer", "leader"} <= held[pk]
    ]
    assert lacking == []
    assert UnitRole.objects.filter(role="unit_admin").values("unit").distinct().count() > 300
    supervision = Unit.objects.get(short_name="市监察局")
    assert UnitRole.objects.filter(unit=supervision, role="supervisor").count() >= 3
    # Every staff member holds a post; a few hold posts in two units (驻村第一书记).
    staff = User.objects.filter(kind=AccountKind.STAFF, platform_role="")
    assert not staff.filter(post_assignments__isnull=True).exists()
    two_units = [
        user
        for user in staff.filter(post_assignments__is_primary=False).distinct()
        if len(access.user_unit_ids(user)) == 2
    ]
    assert 5 <= len(two_units) <= 60
    secretary = two_units[0]
    second = secretary.post_assignments.get(is_primary=False).post
    assert second.name == "驻村第一书记" and second.unit.kind == UnitKind.VILLAGE
    assert second.unit.parent_id == secretary.primary_unit_id


def test_it_links_every_unit_to_the_right_parent_and_level(city: DemoReport) -> None:
    units = {u.pk: u for u in Unit.objects.select_related("region", "region__parent")}
    for unit in units.values():
        parent = units.get(unit.parent_id) if unit.parent_id else None
        assert unit.level == unit.region.level, unit.name
        assert unit.path == (parent.path if parent else "") + unit.code + "/", unit.name
        if unit.kind == UnitKind.TOWNSHIP:
            assert parent is not None and parent.kind == UnitKind.GOVERNMENT, unit.name
            assert parent.region_id == unit.region.parent_id, unit.name
        elif unit.kind == UnitKind.VILLAGE:
            assert parent is not None and parent.kind == UnitKind.TOWNSHIP, unit.name
            assert parent.region_id == unit.region.parent_id, unit.name
        elif unit.kind == UnitKind.DEPARTMENT:
            assert parent is not None and parent.region_id == unit.region_id, unit.name
            assert parent.kind in {UnitKind.GOVERNMENT, UnitKind.PARTY}, unit.name
        elif unit.level == RegionLevel.COUNTY:
            # County bodies sit under their city counterpart (county court under the city court …).
            assert parent is not None and parent.level == RegionLevel.CITY, unit.name
            assert parent.kind == unit.kind, unit.name
    for region in Region.objects.select_related("parent"):
        expected = (region.parent.path if region.parent else "") + region.code + "/"
        assert region.path == expected
        if region.level in {RegionLevel.TOWNSHIP, RegionLevel.VILLAGE}:
            assert region.code.startswith(region.parent.code), region.name
        elif region.level == RegionLevel.COUNTY:
            assert region.code[:4] == "6208" and len(region.code) == 6, region.name
    kongtong = Unit.objects.get(short_name="崆峒区政府")
    assert kongtong.parent == Unit.objects.get(short_name="市政府")
    assert Unit.objects.get(short_name="崆峒镇").parent == kongtong
    assert Unit.objects.get(short_name="崆峒区税务局").parent == Unit.objects.get(short_name="市税务局")


def test_it_gives_every_demo_account_the_password_and_the_roles_its_label_claims(city: DemoReport) -> None:
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.8")
    for account in NAMED_ACCOUNTS:
        user = authenticate(request, username=account.username, password=DEMO_PASSWORD)
        assert user is not None, account.username
        assert authenticate(request, username=account.username, password="Zw#Wrong-2026-pl") is None
        validate_password(DEMO_PASSWORD, user)  # the documented password passes the policy
        assert user.kind == account.kind
        assert user.platform_role == account.platform_role
        if account.unit_short:
            unit = Unit.objects.get(short_name=account.unit_short)
            assert user.primary_unit == unit, account.username
        if account.post:
            assert set(access.user_roles(user)[unit.pk]) == set(account.roles), account.username
            assert user.post_assignments.filter(post__unit=unit, post__name=account.post).exists()
        else:
            assert access.user_roles(user) == {}, account.username
    clerk = User.objects.get(username="kt_clerk")
    assert clerk.primary_unit.name == "崆峒区崆峒镇人民政府"
    assert access.has_unit_role(clerk, clerk.primary_unit, "clerk", "handler")
    assert not access.can_view_unit_work(clerk, Unit.objects.get(short_name="白水镇"))
    assert access.is_system_admin(User.objects.get(username="sysadmin"))
    assert access.is_security_admin(User.objects.get(username="secadmin"))
    assert access.is_audit_admin(User.objects.get(username="auditadmin"))
    # Generated staff sign in with the same documented password.
    generated = User.objects.filter(username__startswith="staff").order_by("username").first()
    assert authenticate(request, username=generated.username, password=DEMO_PASSWORD) == generated


def test_it_stores_public_accounts_phones_and_emails_encrypted(city: DemoReport) -> None:
    citizen = User.objects.get(username="citizen")
    assert citizen.mobile == "13800001234" and citizen.email == "zhangsan@example.com"
    with connection.cursor() as cur:
        cur.execute(f"SELECT mobile, email FROM {User._meta.db_table} WHERE id = %s", [citizen.pk])
        raw_mobile, raw_email = cur.fetchone()
    assert "13800001234" not in raw_mobile and "zhangsan" not in raw_email
    assert User.objects.get(mobile_index=blind_index("13800001234"), kind=AccountKind.CITIZEN) == citizen
    mobiles = list(User.objects.exclude(kind=AccountKind.STAFF).values_list("mobile_index", flat=True))
    assert "" not in mobiles and len(set(mobiles)) == len(mobiles)
    enterprise = User.objects.filter(kind=AccountKind.ENTERPRISE).exclude(username="enterprise").first()
    assert enterprise.name.startswith(("平凉市", "崆峒", "泾川", "灵台", "崇信", "华亭", "庄浪", "静宁"))


def test_it_resolves_recipient_groups_to_the_expected_units(city: DemoReport) -> None:
    def members(code: str) -> list[Unit]:
        return list(unit_group_members(UnitGroup.objects.get(code=code)))

    counties = members("county-governments")
    assert len(counties) == 7
    assert all(u.kind == UnitKind.GOVERNMENT and u.level == RegionLevel.COUNTY for u in counties)
    assert len(members("everyone")) == Unit.objects.count()
    city_departments = members("city-departments")
    assert 55 <= len(city_departments) <= 65
    assert "平凉市监察局" in {u.name for u in city_departments}
    assert all(u.kind == UnitKind.DEPARTMENT for u in city_departments)
    kongtong = Unit.objects.get(short_name="崆峒区政府")
    townships = members("townships-620802")
    assert len(townships) == 17 and all(u.parent_id == kongtong.pk for u in townships)
    assert {"崆峒镇", "白水镇"} <= {u.short_name for u in townships}
    assert len(members("all-townships")) == Unit.objects.filter(kind=UnitKind.TOWNSHIP).count()
    # A township's own group of its villages belongs to that township.
    own = UnitGroup.objects.get(code="villages-620802100")
    assert own.owner == Unit.objects.get(short_name="崆峒镇")
    villages = members("villages-620802100")
    assert villages and all(u.parent_id == own.owner_id for u in villages)
    assert "崆峒镇崆峒村" in {u.short_name for u in villages}
    county_villages = members("villages-620802")
    assert set(villages) < set(county_villages)
    assert all(u.kind == UnitKind.VILLAGE for u in county_villages)


def test_it_records_the_build_as_one_event_in_the_trail(city: DemoReport) -> None:
    events = AuditEvent.objects.filter(action="demo.build")
    assert events.count() == 1
    after = events.get().after
    assert after["scale"] == "small"
    assert after["counts"]["core.organisation"]["units"] == Unit.objects.count()
    # Not one per row (17,000+ rows): the organisation is one record; later steps add a handful each.
    assert AuditEvent.objects.count() < 50
    assert audit_verify().ok


def test_it_builds_the_same_city_again_after_a_reset(city: DemoReport) -> None:
    before = _snapshot()
    call_command("demo", "--reset", stdout=_Sink())
    after = _snapshot()
    assert after == before
    assert Unit.objects.values("code").distinct().count() == Unit.objects.count()
    assert AuditEvent.objects.filter(action="demo.reset").count() == 1
    assert audit_verify().ok


def test_it_runs_later_steps_after_the_organisation_and_resets_them_first(
    city: DemoReport, monkeypatch: Any
) -> None:
    import zhengwu.core.demo as demo_module

    monkeypatch.setattr(demo_module, "_STEPS", list(demo_module._STEPS))
    seen: list[tuple[str, Any]] = []

    def build(ctx: DemoContext) -> dict[str, int]:
        seen.append(("build", ctx.scale))
        assert ctx.data["units"]["620800-ZF"] == Unit.objects.get(code="620800-ZF").pk
        assert ctx.rng("things").random() == DemoContext("x", "", ctx.now).rng("things").random()
        return {"things": 3}

    def reset(ctx: DemoContext) -> dict[str, int]:
        seen.append(("reset", Unit.objects.exists()))  # runs while the organisation is still there
        return {"things": 3}

    register_step(DemoStep("test.things", "测试 / test", build, reset))
    steps = demo_module.demo_steps()
    assert (steps[0].name, steps[-1].name) == ("core.organisation", "test.things")
    report = demo_build(scale="small", reset=True, log=lambda line: None)
    assert seen == [("reset", True), ("build", "small")]
    # Other apps register their own steps too; the organisation comes first and ours last.
    assert next(iter(report.counts)) == "core.organisation"
    assert list(report.counts)[-1] == "test.things"
    assert list(report.counts) == [step.name for step in steps]
    assert report.reset_counts["test.things"] == {"things": 3}


def test_it_refuses_to_reset_while_other_data_still_points_at_the_demo(city: DemoReport) -> None:
    elsewhere = Region.objects.create(code="990000", name="外市", level=RegionLevel.CITY)
    Unit.objects.create(
        code="990000-X",
        name="外市驻平凉办事处",
        kind=UnitKind.DEPARTMENT,
        region=elsewhere,
        parent=Unit.objects.get(code="620800-ZF"),
    )
    units, staff = Unit.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match="仍引用"):
        call_command("demo", "--reset", stdout=_Sink())
    assert (Unit.objects.count(), User.objects.count()) == (units, staff)  # nothing removed half-way


def test_it_leaves_an_existing_city_alone_without_reset(city: DemoReport) -> None:
    units = Unit.objects.count()
    out = _Sink()
    call_command("demo", stdout=out)
    assert "--reset" in out.text and "kt_clerk" in out.text
    assert Unit.objects.count() == units
    assert AuditEvent.objects.filter(action="demo.build").count() == 1


def test_it_answers_check_with_the_exit_status(city: DemoReport, monkeypatch: Any) -> None:
    call_command("demo", "--check", stdout=_Sink())  # exists: returns normally (exit status 0)
    demo_reset(log=lambda line: None)
    assert not demo_exists()
    with pytest.raises(CommandError) as failed:
        call_command("demo", "--check", stdout=_Sink())
    assert failed.value.returncode == 1
    # The command line (bin/start) sees exit status 1. run_from_argv closes every connection when done,
    # which would end the test's transaction: keep it open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["zhengwu", "demo", "--check"])
    assert exited.value.code == 1
    assert demo_accounts_text() == ""
    # A half-present demo (someone re-created the city region by hand) is refused without --reset.
    Region.objects.create(code="620800", name="平凉市", level=RegionLevel.CITY)
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", stdout=_Sink())
    assert Unit.objects.count() == 0


def test_it_prints_the_demo_accounts_with_the_password(city: DemoReport) -> None:
    text = demo_accounts_text()
    for account in NAMED_ACCOUNTS:
        assert account.username in text
    assert DEMO_PASSWORD in text
    assert "崆峒区崆峒镇人民政府" in text and "Township clerk" in text


def test_it_plans_the_seed_scale_with_every_village_and_ten_thousand_public_accounts() -> None:
    small, seed = plan_city("small"), plan_city("seed")
    assert [u.code for u in seed.units] == [u.code for u in small.units]
    villages = [r for r in seed.regions if r.level == RegionLevel.VILLAGE]
    assert 1_300 <= len(villages) <= 1_600
    assert {r.code for r in small.regions} < {r.code for r in seed.regions}
    assert len(seed.public) == 10_000
    assert [p.username for p in seed.public[: len(small.public) // 2]] == [
        p.username for p in small.public[: len(small.public) // 2]
    ]
    assert len(seed.staff) >= 3_000
    assert plan_city("seed").units[-1] == seed.units[-1]  # deterministic


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return None
