"""The shared cast of characters (built directly, fast; services are tested on their own).

A small city: one city, two counties (A, B), townships A1, A2 in A and B1 in B, one village in A1.
People: a township clerk (A1), another township's clerk (A2), a county reviewer (county A government),
a city leader, a township unit admin, a supervisor (city supervision bureau), the three platform
administrators, a citizen and an enterprise account, and an outsider unit's handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhengwu.core.models import (
    AccountKind,
    Department,
    PlatformRole,
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

PASSWORD = "Zw-Test-Passw0rd!"


@dataclass
class Cast:
    city: Region
    county_a: Region
    county_b: Region
    township_a1: Region
    township_a2: Region
    township_b1: Region
    village_a1: Region
    city_gov: Unit
    city_info_office: Unit
    city_supervision: Unit
    county_a_gov: Unit
    county_b_gov: Unit
    township_a1_gov: Unit
    township_a2_gov: Unit
    township_b1_gov: Unit
    village_a1_committee: Unit
    outsider_unit: Unit
    township_clerk: User
    other_township_clerk: User
    township_admin: User
    county_reviewer: User
    county_b_clerk: User
    city_leader: User
    city_clerk: User
    supervisor: User
    outsider: User
    system_admin: User
    security_admin: User
    audit_admin: User
    citizen: User
    enterprise: User
    groups: dict[str, UnitGroup] = field(default_factory=dict)
    password: str = PASSWORD


def _staff(username: str, name: str, unit: Unit, post_name: str, roles: list[str], **extra: object) -> User:
    user = User(username=username, name=name, kind=AccountKind.STAFF, primary_unit=unit, **extra)
    user.set_password(PASSWORD)
    user.save()
    dept, _ = Department.objects.get_or_create(unit=unit, name="办公室")
    post = Post.objects.create(unit=unit, department=dept, name=post_name)
    PostAssignment.objects.create(user=user, post=post)
    for role in roles:
        UnitRole.objects.create(user=user, unit=unit, role=role)
    return user


def build_cast() -> Cast:
    city = Region.objects.create(code="620800", name="平凉市", level=RegionLevel.CITY)
    county_a = Region.objects.create(code="620802", name="崆峒区", level=RegionLevel.COUNTY, parent=city)
    county_b = Region.objects.create(code="620821", name="泾川县", level=RegionLevel.COUNTY, parent=city)
    t_a1 = Region.objects.create(code="620802100", name="崆峒镇", level=RegionLevel.TOWNSHIP, parent=county_a)
    t_a2 = Region.objects.create(code="620802101", name="白水镇", level=RegionLevel.TOWNSHIP, parent=county_a)
    t_b1 = Region.objects.create(code="620821100", name="城关镇", level=RegionLevel.TOWNSHIP, parent=county_b)
    v_a1 = Region.objects.create(code="620802100201", name="崆峒村", level=RegionLevel.VILLAGE, parent=t_a1)

    def unit(code: str, name: str, kind: str, region: Region, parent: Unit | None, short: str = "") -> Unit:
        return Unit.objects.create(
            code=code,
            name=name,
            short_name=short,
            kind=kind,
            region=region,
            parent=parent,
            phone="0933-8000000",
        )

    city_gov = unit("C-GOV", "平凉市人民政府", UnitKind.GOVERNMENT, city, None, "市政府")
    info = unit("C-INFO", "平凉市信息化办公室", UnitKind.DEPARTMENT, city, city_gov, "市信息办")
    supervision = unit("C-SUP", "平凉市监察局", UnitKind.DEPARTMENT, city, city_gov, "市监察局")
    a_gov = unit("A-GOV", "崆峒区人民政府", UnitKind.GOVERNMENT, county_a, city_gov, "崆峒区政府")
    b_gov = unit("B-GOV", "泾川县人民政府", UnitKind.GOVERNMENT, county_b, city_gov, "泾川县政府")
    a1 = unit("A1-GOV", "崆峒镇人民政府", UnitKind.TOWNSHIP, t_a1, a_gov, "崆峒镇")
    a2 = unit("A2-GOV", "白水镇人民政府", UnitKind.TOWNSHIP, t_a2, a_gov, "白水镇")
    b1 = unit("B1-GOV", "城关镇人民政府", UnitKind.TOWNSHIP, t_b1, b_gov, "城关镇")
    village = unit("A1-V1", "崆峒村村民委员会", UnitKind.VILLAGE, v_a1, a1, "崆峒村")
    outsider_unit = unit("C-TOUR", "平凉市文化和旅游局", UnitKind.DEPARTMENT, city, city_gov, "市文旅局")

    def admin(username: str, name: str, role: str) -> User:
        user = User(
            username=username, name=name, kind=AccountKind.STAFF, platform_role=role, primary_unit=info
        )
        user.set_password(PASSWORD)
        user.save()
        return user

    citizen = User(
        username="citizen",
        name="张三",
        kind=AccountKind.CITIZEN,
        mobile="13800001234",
        email="zhangsan@example.com",
    )
    citizen.set_password(PASSWORD)
    citizen.save()
    enterprise = User(
        username="enterprise",
        name="平凉某某有限公司",
        kind=AccountKind.ENTERPRISE,
        email="company@example.com",
    )
    enterprise.set_password(PASSWORD)
    enterprise.save()

    groups = {
        "county_governments": UnitGroup.objects.create(
            code="county-governments",
            name="各县区政府",
            kinds=[UnitKind.GOVERNMENT],
            level=RegionLevel.COUNTY,
        ),
        "city_departments": UnitGroup.objects.create(
            code="city-departments", name="市直部门", kinds=[UnitKind.DEPARTMENT], level=RegionLevel.CITY
        ),
        "townships_of_a": UnitGroup.objects.create(
            code="townships-a", name="崆峒区各乡镇", kinds=[UnitKind.TOWNSHIP], within=county_a
        ),
        "everyone": UnitGroup.objects.create(code="everyone", name="全部单位", match_all=True),
    }

    return Cast(
        city=city,
        county_a=county_a,
        county_b=county_b,
        township_a1=t_a1,
        township_a2=t_a2,
        township_b1=t_b1,
        village_a1=v_a1,
        city_gov=city_gov,
        city_info_office=info,
        city_supervision=supervision,
        county_a_gov=a_gov,
        county_b_gov=b_gov,
        township_a1_gov=a1,
        township_a2_gov=a2,
        township_b1_gov=b1,
        village_a1_committee=village,
        outsider_unit=outsider_unit,
        township_clerk=_staff("kt_clerk", "李文书", a1, "文书", ["clerk", "handler"], mobile="13900000001"),
        other_township_clerk=_staff("bs_clerk", "王文书", a2, "文书", ["clerk", "handler"]),
        township_admin=_staff("kt_admin", "赵管理", a1, "党政办主任", ["unit_admin"]),
        county_reviewer=_staff("kd_reviewer", "陈审核", a_gov, "审核员", ["reviewer", "handler"]),
        county_b_clerk=_staff("jc_clerk", "周文书", b_gov, "收发员", ["clerk"]),
        city_leader=_staff("city_leader", "刘市长", city_gov, "副市长", ["leader"]),
        city_clerk=_staff("city_clerk", "孙秘书", city_gov, "文书", ["clerk", "handler"]),
        supervisor=_staff("supervisor", "吴监察", supervision, "监察员", ["supervisor"]),
        outsider=_staff("outsider", "郑外人", outsider_unit, "科员", ["handler", "clerk"]),
        system_admin=admin("sysadmin", "系统管理员", PlatformRole.SYSTEM_ADMIN),
        security_admin=admin("secadmin", "安全保密管理员", PlatformRole.SECURITY_ADMIN),
        audit_admin=admin("auditadmin", "安全审计员", PlatformRole.AUDIT_ADMIN),
        citizen=citizen,
        enterprise=enterprise,
        groups=groups,
    )
