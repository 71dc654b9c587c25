"""The demo city's organisation: regions, units, departments, posts, staff, roles, groups, public accounts.

Two halves: `plan_city` works out every row in plain Python from seeded random generators (the same
rows on every run, on every machine), and `build` writes them with one `bulk_create` per table and tree
level. `bulk_create` skips `save()`, so the materialised paths and levels that `Region.save` and
`Unit.save` would compute, and the blind indexes of `User.save`, are computed here.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from zhengwu.core.demo import data
from zhengwu.core.demo.named import NAMED_ACCOUNTS, NAMED_USERNAMES, NamedAccount
from zhengwu.core.fields import blind_index
from zhengwu.core.models import (
    AccountKind,
    Department,
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

if TYPE_CHECKING:
    from zhengwu.core.demo import DemoContext

SMALL_PUBLIC = (240, 60)  # citizens, enterprises besides the two named public accounts
SEED_PUBLIC = (8_498, 1_500)  # with the two named ones: 10,000 public accounts
# Generated usernames: staff00001, citizen00001, enterprise00001 (reset finds them by these patterns).
GENERATED_USERNAME_REGEX = r"^(staff|citizen|enterprise)[0-9]{5}$"
STAFF_EMAIL_DOMAIN = "pingliang.example"


def rng(name: str) -> random.Random:
    """A generator of its own for each part, so adding to one part never shifts the others."""
    return random.Random(f"zhengwu-demo:{name}")


# --- the plan --------------------------------------------------------------------------------------
@dataclass(slots=True)
class Slot:
    post: str
    section: str | None
    roles: tuple[str, ...]
    count: int = 1


@dataclass(slots=True)
class RegionPlan:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass(slots=True)
class UnitPlan:
    code: str
    name: str
    short: str
    kind: str
    region: str
    parent: str | None
    sort: int
    phone: str
    address: str
    receives_paper: bool
    sections: tuple[str, ...]
    slots: list[Slot] = field(default_factory=list)


@dataclass(slots=True)
class StaffPlan:
    username: str
    name: str
    unit: str
    mobile: str
    email: str
    office_phone: str
    joined_days_ago: int
    posts: list[tuple[str, str | None, str, bool]] = field(default_factory=list)  # unit, section, post, main
    roles: list[tuple[str, str]] = field(default_factory=list)  # unit, role
    platform_role: str = ""


@dataclass(slots=True)
class PublicPlan:
    username: str
    name: str
    kind: str
    mobile: str
    email: str
    joined_days_ago: int


@dataclass(slots=True)
class GroupPlan:
    code: str
    name: str
    kinds: list[str]
    level: str = ""
    within: str | None = None
    match_all: bool = False
    owner: str | None = None


@dataclass
class CityPlan:
    scale: str
    regions: list[RegionPlan]
    units: list[UnitPlan]
    staff: list[StaffPlan]
    public: list[PublicPlan]
    groups: list[GroupPlan]

    def unit_by_short(self) -> dict[str, UnitPlan]:
        return {u.short: u for u in self.units}


def _head_title(short: str) -> str:
    """The head of a department by the form of its name (局长, 主任, 部长 …)."""
    for suffix, title in (
        ("纪委", "书记"),
        ("工委", "书记"),
        ("政法委", "书记"),
        ("中支", "行长"),
        ("公司", "总经理"),
        ("支队", "支队长"),
        ("调查队", "队长"),
        ("党校", "常务副校长"),
        ("分局", "局长"),
        ("局", "局长"),
        ("部", "部长"),
        ("处", "处长"),
    ):
        if short.endswith(suffix):
            return title
    return "主任"


def _deputy(title: str) -> str:
    return title if title.startswith("常务副") else "副" + title


def _stem(township: str) -> str:
    for suffix in ("回族乡", "镇", "乡"):
        if township.endswith(suffix):
            return township[: -len(suffix)]
    return township


class _Numbers:
    """Unique, deterministic phone numbers."""

    def __init__(self, r: random.Random, reserved: set[str]) -> None:
        self.r = r
        self.used = set(reserved)

    def mobile(self, prefixes: tuple[str, ...]) -> str:
        while True:
            number = self.r.choice(prefixes) + f"{self.r.randrange(10**8):08d}"
            if number not in self.used:
                self.used.add(number)
                return number


def _person_name(r: random.Random) -> str:
    surname = r.choice(data.SURNAMES_WEIGHTED)
    given = r.choice(data.GIVEN_CHARS)
    if r.random() < 0.7:
        given += r.choice(data.GIVEN_CHARS)
    return surname + given


def _village_names(r: random.Random, township: str, count: int, communities: int) -> list[tuple[str, str]]:
    """(suffix-less kind, name) pairs: communities (社区) first, then villages (村), names unique."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for name in r.sample(data.COMMUNITY_NAMES, communities):
        used.add(name)
        out.append(("community", name + "社区"))
    first = _stem(township)
    names = [first]
    used.add(first)
    while len(names) < count:
        pattern = r.random()
        if pattern < 0.45:
            name = r.choice(data.SURNAMES) + "家" + r.choice(data.VILLAGE_GEO)
        elif pattern < 0.7:
            name = r.choice(data.SURNAMES) + r.choice(data.VILLAGE_GEO)
        else:
            name = r.choice(data.VILLAGE_DESCRIPTORS) + r.choice(data.VILLAGE_GEO)
        if name not in used:
            used.add(name)
            names.append(name)
    out.extend(("village", n + "村") for n in names)
    return out


def _leading_slots(kind: str, head: str, deputy: str, *, big: bool) -> list[Slot]:
    if kind in {"court", "procuratorate"}:
        return [
            Slot(head, None, ("leader",)),
            Slot(deputy, None, ("leader", "reviewer")),
            Slot("办公室主任", "办公室", ("reviewer", "unit_admin")),
            Slot("文书", "办公室", ("clerk", "handler")),
            Slot("科员", "办公室", ("handler",), 1 if big else 0),
        ]
    return [
        Slot(head, None, ("leader",)),
        Slot(deputy, None, ("leader",) if big else ("leader", "reviewer"), 2 if big else 1),
        Slot("秘书长" if big else "办公室主任", "办公室", ("reviewer", "unit_admin")),
        Slot("文书", "办公室", ("clerk", "handler")),
        Slot("科员", "办公室", ("handler",), 2 if big else 1),
    ]


_LEADING_SECTIONS = {
    "party": ("办公室", "秘书科", "督查室"),
    "congress": ("办公室", "法制工作室", "代表工作室"),
    "cppcc": ("办公室", "提案委员会办公室", "文史委员会办公室"),
    "court": ("办公室", "立案庭", "审判管理办公室"),
    "procuratorate": ("办公室", "案件管理中心", "控告申诉检察科"),
}
_LEADING_TITLES = {
    "party": ("书记", "副书记"),
    "congress": ("主任", "副主任"),
    "cppcc": ("主席", "副主席"),
    "court": ("院长", "副院长"),
    "procuratorate": ("检察长", "副检察长"),
}
# Extra staff in the departments whose work the platform carries most.
_CITY_SPECIAL_SLOTS: dict[str, list[Slot]] = {
    "市监察局": [Slot("监察员", "电子监察中心", ("supervisor",), 4)],
    "市信息办": [
        Slot("网站管理员", "网站管理科", ("handler",), 2),
        Slot("系统运维", "网络运维科", ("handler",), 2),
    ],
    "市政务服务中心": [Slot("窗口工作人员", "窗口管理科", ("handler",), 4)],
    "市法制办": [Slot("审核员", "法规科", ("reviewer", "handler"), 2)],
    "市信访局": [Slot("信访接待员", "网上信访科", ("handler",), 2)],
}
_COUNTY_SPECIAL_SLOTS: dict[str, list[Slot]] = {
    "监察局": [Slot("监察员", "效能监察股", ("supervisor",))],
    "信息办": [Slot("网站管理员", "网站股", ("handler",))],
    "政务服务中心": [Slot("窗口工作人员", "窗口管理股", ("handler",), 2)],
}


def _dept_slots(short: str, sections: tuple[str, ...], extra: int, *, county: bool) -> list[Slot]:
    head = _head_title(short)
    work = [s for s in sections if s != "办公室"] or ["办公室"]
    if county:
        slots = [
            Slot(head, None, ("leader", "reviewer")),
            Slot("办公室主任", "办公室", ("reviewer", "unit_admin", "handler")),
            Slot("文书", "办公室", ("clerk", "handler")),
        ]
    else:
        slots = [
            Slot(head, None, ("leader",)),
            Slot(_deputy(head), None, ("leader", "reviewer")),
            Slot("办公室主任", "办公室", ("reviewer", "unit_admin")),
            Slot("文书", "办公室", ("clerk", "handler")),
            Slot("科员", work[0], ("handler",)),
        ]
    for i in range(extra):
        slots.append(Slot("科员", work[(i + (0 if county else 1)) % len(work)], ("handler",)))
    return slots


def plan_city(scale: str = "small") -> CityPlan:
    """Every row of the demo organisation, in insertion order. Pure: no database access."""
    r_units = rng("units")
    r_villages = rng("villages")
    regions: list[RegionPlan] = [RegionPlan(data.CITY_CODE, data.CITY_NAME, RegionLevel.CITY, None)]
    units: list[UnitPlan] = []
    sort_in: Counter[str | None] = Counter()

    def phone() -> str:
        return f"{data.AREA_CODE}-8{r_units.randrange(10**6):06d}"

    def add_unit(
        code: str,
        name: str,
        short: str,
        kind: str,
        region: str,
        parent: str | None,
        address: str,
        sections: tuple[str, ...],
        slots: list[Slot],
        paper: bool = False,
    ) -> UnitPlan:
        sort_in[parent] += 1
        unit = UnitPlan(
            code, name, short, kind, region, parent, sort_in[parent], phone(), address, paper, sections, slots
        )
        units.append(unit)
        return unit

    def city_address() -> str:
        return f"平凉市崆峒区{r_units.choice(data.STREETS)}{r_units.randint(1, 300)}号"

    city = data.CITY_CODE
    # City leading bodies.
    for tag, kind, _full, _short in data.LEADING_BODIES:
        if kind == "government":
            name, short = "平凉市人民政府", "市政府"
            sections: tuple[str, ...] = ("办公室", "秘书科", "综合科", "督查室", "信息科")
            slots = [
                Slot("市长", None, ("leader",)),
                Slot("副市长", None, ("leader",), 5),
                Slot("秘书长", "办公室", ("leader", "reviewer")),
                Slot("副秘书长", "办公室", ("reviewer",), 2),
                Slot("办公室主任", "办公室", ("reviewer", "unit_admin")),
                Slot("文书", "秘书科", ("clerk", "handler"), 2),
                Slot("收发员", "秘书科", ("clerk",)),
                Slot("督查员", "督查室", ("handler",), 2),
                Slot("信息员", "信息科", ("handler",), 2),
                Slot("科员", "综合科", ("handler",), 3),
            ]
        else:
            head, deputy = _LEADING_TITLES[kind]
            name = {
                "party": "中共平凉市委员会",
                "congress": "平凉市人民代表大会常务委员会",
                "cppcc": "中国人民政治协商会议平凉市委员会",
                "court": "平凉市中级人民法院",
                "procuratorate": "平凉市人民检察院",
            }[kind]
            short = {
                "party": "市委",
                "congress": "市人大常委会",
                "cppcc": "市政协",
                "court": "市中级法院",
                "procuratorate": "市检察院",
            }[kind]
            sections = _LEADING_SECTIONS[kind]
            slots = _leading_slots(kind, head, deputy, big=True)
        add_unit(f"{city}-{tag}", name, short, kind, city, None, city_address(), sections, slots)

    # City departments (市直部门) under the party committee or the government.
    for i, dept in enumerate(data.CITY_DEPARTMENTS, start=1):
        sections = dept.sections or ("办公室", "综合科", "政策法规科")
        extra = r_units.choice((0, 0, 1, 1, 2))
        slots = _dept_slots(dept.short, sections, extra, county=False) + _CITY_SPECIAL_SLOTS.get(
            dept.short, []
        )
        add_unit(
            f"{city}-B{i:02d}",
            dept.name,
            dept.short,
            UnitKind.DEPARTMENT,
            city,
            f"{city}-{dept.under}",
            city_address(),
            sections,
            slots,
            dept.paper,
        )
    # Vertical departments (垂直管理部门): their own line upwards, no parent in the city.
    vertical_codes: dict[str, str] = {}
    for i, dept in enumerate(data.CITY_VERTICALS, start=1):
        head = _head_title(dept.short)
        slots = [
            Slot(head, None, ("leader",)),
            Slot(_deputy(head), None, ("leader", "reviewer")),
            Slot("文书", "办公室", ("clerk", "handler")),
            Slot("科员", dept.sections[-1], ("handler",)),
        ]
        code = f"{city}-C{i:02d}"
        vertical_codes[dept.short] = code
        add_unit(
            code, dept.name, dept.short, UnitKind.VERTICAL, city, None, city_address(), dept.sections, slots
        )

    # Counties, their bodies, departments, townships and villages.
    township_units: list[UnitPlan] = []
    villages_by_township: dict[str, list[tuple[str, str, str]]] = {}  # code → [(region code, kind, name)]
    duplicate_townships = {
        t for t, n in Counter(t for c in data.COUNTIES for t in (*c.towns, *c.townships)).items() if n > 1
    }
    for county in data.COUNTIES:
        cc = county.code
        regions.append(RegionPlan(cc, county.name, RegionLevel.COUNTY, city))
        seat = county.towns[0]

        def county_address(county: data.County = county, seat: str = seat) -> str:
            return f"平凉市{county.name}{seat}{r_units.choice(data.STREETS)}{r_units.randint(1, 200)}号"

        gov_title = {"区": "区长", "县": "县长", "市": "市长"}[county.name[-1]]
        for tag, kind, _full, _short in data.LEADING_BODIES:
            cname = county.name
            if kind == "government":
                name, short = f"{cname}人民政府", f"{cname}政府"
                sections = ("办公室", "秘书股", "综合股", "督查室", "信息股")
                slots = [
                    Slot(gov_title, None, ("leader",)),
                    Slot("副" + gov_title, None, ("leader",), 3),
                    Slot("办公室主任", "办公室", ("reviewer", "unit_admin")),
                    Slot("审核员", "办公室", ("reviewer", "handler")),
                    Slot("文书", "秘书股", ("clerk", "handler")),
                    Slot("收发员", "秘书股", ("clerk",)),
                    Slot("督查员", "督查室", ("handler",)),
                    Slot("科员", "综合股", ("handler",), 3),
                ]
            else:
                head, deputy = _LEADING_TITLES[kind]
                name = {
                    "party": f"中共{cname}委员会",
                    "congress": f"{cname}人民代表大会常务委员会",
                    "cppcc": f"中国人民政治协商会议{cname}委员会",
                    "court": f"{cname}人民法院",
                    "procuratorate": f"{cname}人民检察院",
                }[kind]
                short = {
                    "party": f"{cname}委",
                    "congress": f"{cname}人大常委会",
                    "cppcc": f"{cname}政协",
                    "court": f"{cname}法院",
                    "procuratorate": f"{cname}检察院",
                }[kind]
                sections = ("办公室",)
                slots = _leading_slots(kind, head, deputy, big=False)
            add_unit(
                f"{cc}-{tag}",
                name,
                short,
                kind,
                cc,
                f"{city}-{tag}",
                county_address(),
                sections,
                slots,
                county.paper,
            )
        for i, dept in enumerate(data.COUNTY_DEPARTMENTS, start=1):
            dname = dept.name.format(c=county.name)
            dshort = dept.short.format(c=county.name)
            sections = dept.sections or ("办公室", "业务股")
            extra = 1 if r_units.random() < 0.25 else 0
            special = next(
                (v for k, v in _COUNTY_SPECIAL_SLOTS.items() if dshort.endswith(k)),
                [],
            )
            slots = _dept_slots(dshort, sections, extra, county=True) + special
            add_unit(
                f"{cc}-B{i:02d}",
                dname,
                dshort,
                UnitKind.DEPARTMENT,
                cc,
                f"{cc}-{dept.under}",
                county_address(),
                sections,
                slots,
                county.paper,
            )
        for i, (vname, vshort, city_short) in enumerate(data.COUNTY_VERTICALS, start=1):
            vshort_f = vshort.format(c=county.name)
            head = _head_title(vshort_f)
            slots = [
                Slot(head, None, ("leader", "reviewer")),
                Slot("文书", "办公室", ("clerk", "handler")),
                Slot("科员", "业务股", ("handler",)),
            ]
            add_unit(
                f"{cc}-C{i:02d}",
                vname.format(c=county.name),
                vshort_f,
                UnitKind.VERTICAL,
                cc,
                vertical_codes[city_short],
                county_address(),
                ("办公室", "业务股"),
                slots,
            )
        # Townships: 镇 numbered from 100, 乡 from 200 (the national statistical scheme).
        for number, township in [
            *((100 + i, t) for i, t in enumerate(county.towns)),
            *((200 + i, t) for i, t in enumerate(county.townships)),
        ]:
            tc = f"{cc}{number}"
            regions.append(RegionPlan(tc, township, RegionLevel.TOWNSHIP, cc))
            is_town = township.endswith("镇")
            chief = "镇长" if is_town else "乡长"
            slots = [
                Slot("党委书记", None, ("leader",)),
                Slot(chief, None, ("leader",)),
                Slot("副" + chief, None, ("leader", "reviewer")),
                Slot("党政办主任", "党政办公室", ("reviewer", "unit_admin")),
                Slot("文书", "党政办公室", ("clerk", "handler")),
                Slot("干事", "经济发展办公室", ("handler",)),
                Slot("干事", "社会事务办公室", ("handler",)),
            ]
            prefix = county.name if township in duplicate_townships else ""
            township_units.append(
                add_unit(
                    f"{tc}-ZF",
                    f"{county.name}{township}人民政府",
                    f"{prefix}{township}",
                    UnitKind.TOWNSHIP,
                    tc,
                    f"{cc}-ZF",
                    f"平凉市{county.name}{township}",
                    data.TOWNSHIP_SECTIONS,
                    slots,
                    county.paper,
                )
            )
            n_villages = r_villages.randint(10, 18)
            communities = 3 if township == seat else (1 if is_town and r_villages.random() < 0.5 else 0)
            villages = []
            for idx, (vkind, vname) in enumerate(
                _village_names(r_villages, township, n_villages, communities)
            ):
                vcode = f"{tc}{idx + 1:03d}" if vkind == "community" else f"{tc}{201 + idx - communities}"
                villages.append((vcode, vkind, vname))
            villages_by_township[tc] = villages

    # Village committees on the platform: four or five per township, 465 in all (see data.VILLAGE_UNITS).
    base, extra_count = divmod(data.VILLAGE_UNITS, len(township_units))
    with_extra = set(r_villages.sample([t.region for t in township_units], extra_count))
    committee_regions: set[str] = set()
    first_secretaries: list[tuple[str, str]] = []  # (township unit code, village unit code)
    for township_unit in township_units:
        tc = township_unit.region
        county_name = next(c.name for c in data.COUNTIES if tc.startswith(c.code))
        take = base + (1 if tc in with_extra else 0)
        for vcode, vkind, vname in villages_by_township[tc][:take]:
            committee_regions.add(vcode)
            is_community = vkind == "community"
            slots = [
                Slot(
                    "党委书记、居委会主任" if is_community else "党支部书记、村委会主任",
                    None,
                    ("leader", "reviewer"),
                ),
                Slot("社区文书" if is_community else "村文书", None, ("clerk", "handler")),
            ]
            add_unit(
                f"{vcode}-{'JW' if is_community else 'CW'}",
                f"{county_name}{township_unit.short.removeprefix(county_name)}{vname}"
                + ("居民委员会" if is_community else "村民委员会"),
                f"{township_unit.short.removeprefix(county_name)}{vname}",
                UnitKind.VILLAGE,
                vcode,
                township_unit.code,
                f"平凉市{county_name}{township_unit.short.removeprefix(county_name)}{vname}",
                (),
                slots,
                township_unit.receives_paper,
            )
        # 驻村第一书记: one township cadre in a fifth of the townships also holds a post in a village.
        if r_villages.random() < 0.2:
            first_secretaries.append((township_unit.code, f"{villages_by_township[tc][take - 1][0]}"))
    for tc, villages in villages_by_township.items():
        for vcode, _vkind, vname in villages:
            if scale == "seed" or vcode in committee_regions:
                regions.append(RegionPlan(vcode, vname, RegionLevel.VILLAGE, tc))

    staff = _plan_staff(units, first_secretaries)
    public = _plan_public(scale, {s.mobile for s in staff})
    groups = _plan_groups(township_units)
    return CityPlan(scale, regions, units, staff, public, groups)


def _plan_staff(units: list[UnitPlan], first_secretaries: list[tuple[str, str]]) -> list[StaffPlan]:
    r = rng("staff")
    reserved = {a.mobile for a in NAMED_ACCOUNTS if a.mobile}
    numbers = _Numbers(rng("staff-phones"), reserved)
    named: dict[tuple[str, str], list[NamedAccount]] = {}
    for account in NAMED_ACCOUNTS:
        if account.post:
            named.setdefault((account.unit_short, account.post), []).append(account)
    staff: list[StaffPlan] = []
    by_unit: dict[str, list[StaffPlan]] = {}
    serial = 0
    for unit in units:
        for slot in unit.slots:
            for _ in range(slot.count):
                waiting = named.get((unit.short, slot.post))
                cast_member = waiting.pop(0) if waiting else None
                if cast_member is not None:
                    username, name, roles = cast_member.username, cast_member.name, cast_member.roles
                    mobile = cast_member.mobile or numbers.mobile(("139",))
                    _person_name(r)  # keep the sequence of generated names independent of the cast
                else:
                    serial += 1
                    username, name, roles = f"staff{serial:05d}", _person_name(r), slot.roles
                    mobile = numbers.mobile(("139", "189", "133", "153"))
                person = StaffPlan(
                    username=username,
                    name=name,
                    unit=unit.code,
                    mobile=mobile,
                    email=f"{username}@{STAFF_EMAIL_DOMAIN}",
                    office_phone=unit.phone,
                    joined_days_ago=r.randint(30, 3000),
                    posts=[(unit.code, slot.section, slot.post, True)],
                    roles=[(unit.code, role) for role in roles],
                )
                staff.append(person)
                by_unit.setdefault(unit.code, []).append(person)
    left = [a.username for waiting in named.values() for a in waiting]
    if left:
        raise RuntimeError(f"demo staffing has no post for named accounts: {left}")
    # People with posts in two units: a township cadre serving as a village's first secretary.
    for township_code, village_region in first_secretaries:
        cadre = next(p for p in by_unit[township_code] if p.posts[0][2] == "干事")
        village_unit = next(u.code for u in units if u.region == village_region)
        cadre.posts.append((village_unit, None, "驻村第一书记", False))
        cadre.roles.append((village_unit, "handler"))
    # The three platform administrators (三员): in the informatization office, no unit roles.
    info = next(u for u in units if u.short == "市信息办")
    for account in NAMED_ACCOUNTS:
        if account.platform_role:
            staff.append(
                StaffPlan(
                    username=account.username,
                    name=account.name,
                    unit=info.code,
                    mobile=numbers.mobile(("139",)),
                    email=f"{account.username}@{STAFF_EMAIL_DOMAIN}",
                    office_phone=info.phone,
                    joined_days_ago=365,
                    platform_role=account.platform_role,
                )
            )
    return staff


def _plan_public(scale: str, staff_mobiles: set[str]) -> list[PublicPlan]:
    citizens, enterprises = SEED_PUBLIC if scale == "seed" else SMALL_PUBLIC
    r = rng("public")
    reserved = staff_mobiles | {a.mobile for a in NAMED_ACCOUNTS if a.mobile}
    numbers = _Numbers(rng("public-phones"), reserved)
    out: list[PublicPlan] = []
    for account in NAMED_ACCOUNTS:
        if account.kind != AccountKind.STAFF:
            out.append(
                PublicPlan(account.username, account.name, account.kind, account.mobile, account.email, 400)
            )
    # Citizens and enterprises interleaved (about one enterprise in seven) so that the small scale is the
    # first part of the seed scale.
    combos = [
        (p, b, t)
        for p in data.ENTERPRISE_PLACES
        for b in data.ENTERPRISE_BRANDS
        for t in data.ENTERPRISE_TRADES
    ]
    rng("enterprise-names").shuffle(combos)
    c_serial = e_serial = 0
    while c_serial < citizens or e_serial < enterprises:
        make_enterprise = e_serial < enterprises and (c_serial >= citizens or r.random() < 0.15)
        days = r.randint(1, 730)
        if make_enterprise:
            e_serial += 1
            place, brand, trade = combos[e_serial - 1]
            suffix = "有限公司" if not trade.endswith("合作社") else ""
            prefix = "平凉市" if place == "平凉" else place
            out.append(
                PublicPlan(
                    f"enterprise{e_serial:05d}",
                    f"{prefix}{brand}{trade}{suffix}",
                    AccountKind.ENTERPRISE,
                    numbers.mobile(("135", "136", "137", "150", "151", "152", "158", "159")),
                    f"corp{e_serial:05d}@example.net",
                    days,
                )
            )
        else:
            c_serial += 1
            email = f"user{c_serial:05d}@example.com" if r.random() < 0.6 else ""
            out.append(
                PublicPlan(
                    f"citizen{c_serial:05d}",
                    _person_name(r),
                    AccountKind.CITIZEN,
                    numbers.mobile(("135", "136", "137", "150", "151", "152", "158", "159", "177", "186")),
                    email,
                    days,
                )
            )
    return out


def _plan_groups(township_units: list[UnitPlan]) -> list[GroupPlan]:
    """Recipient groups (单位分组): follow the organisation through their rule, not by listing units."""
    city = data.CITY_CODE
    groups = [
        # Every kind rather than match_all: unit_group_members drops a match_all rule when the group has no
        # hand-listed units (Q() | Q(pk__in=[]) is Q(pk__in=[])); the kinds rule names the same units.
        GroupPlan("everyone", "全部单位", list(UnitKind.values)),
        GroupPlan(
            "city-leading-bodies",
            "市四大家",
            [UnitKind.PARTY, UnitKind.CONGRESS, UnitKind.GOVERNMENT, UnitKind.CPPCC],
            RegionLevel.CITY,
        ),
        GroupPlan("city-departments", "市直部门", [UnitKind.DEPARTMENT], RegionLevel.CITY),
        GroupPlan("city-verticals", "市垂直管理部门", [UnitKind.VERTICAL], RegionLevel.CITY),
        GroupPlan("county-governments", "各县区政府", [UnitKind.GOVERNMENT], RegionLevel.COUNTY),
        GroupPlan("county-party-committees", "各县区党委", [UnitKind.PARTY], RegionLevel.COUNTY),
        GroupPlan("county-congresses", "各县区人大常委会", [UnitKind.CONGRESS], RegionLevel.COUNTY),
        GroupPlan("county-cppccs", "各县区政协", [UnitKind.CPPCC], RegionLevel.COUNTY),
        GroupPlan(
            "courts-procuratorates",
            "全市法院、检察院",
            [UnitKind.COURT, UnitKind.PROCURATORATE],
            within=city,
        ),
        GroupPlan("all-townships", "全市各乡镇", [UnitKind.TOWNSHIP]),
        GroupPlan("all-villages", "全市各村（社区）", [UnitKind.VILLAGE]),
    ]
    for county in data.COUNTIES:
        groups += [
            GroupPlan(
                f"townships-{county.code}", f"{county.name}各乡镇", [UnitKind.TOWNSHIP], within=county.code
            ),
            GroupPlan(
                f"departments-{county.code}",
                f"{county.name}直各部门",
                [UnitKind.DEPARTMENT, UnitKind.VERTICAL],
                RegionLevel.COUNTY,
                within=county.code,
            ),
            GroupPlan(
                f"villages-{county.code}",
                f"{county.name}各村（社区）",
                [UnitKind.VILLAGE],
                within=county.code,
            ),
        ]
    # Each township's own group of its villages (所属单位: the township).
    for township in township_units:
        groups.append(
            GroupPlan(
                f"villages-{township.region}",
                "本乡镇各村（社区）",
                [UnitKind.VILLAGE],
                within=township.region,
                owner=township.code,
            )
        )
    return groups


# --- writing it ------------------------------------------------------------------------------------
def _created_ids(model: type[models.Model], objs: list[Any], key: str) -> dict[str, int]:
    """Primary keys of freshly bulk-created rows by a unique key (re-read if the backend did not return them)."""
    if all(o.pk is not None for o in objs):
        return {getattr(o, key): o.pk for o in objs}
    keys = [getattr(o, key) for o in objs]
    return dict(model._default_manager.filter(**{f"{key}__in": keys}).values_list(key, "pk"))


def build(ctx: DemoContext) -> dict[str, int]:
    plan = plan_city(ctx.scale)
    now = ctx.now
    today = now.date()

    # Regions, one level at a time (a child needs its parent's id and path).
    region_ids: dict[str, int] = {}
    region_paths: dict[str, str] = {}
    region_levels: dict[str, str] = {}
    for level in (RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        batch = []
        for rp in plan.regions:
            if rp.level != level:
                continue
            path = (region_paths[rp.parent] if rp.parent else "") + rp.code + "/"
            region_paths[rp.code] = path
            region_levels[rp.code] = rp.level
            batch.append(
                Region(
                    code=rp.code,
                    name=rp.name,
                    level=rp.level,
                    parent_id=region_ids[rp.parent] if rp.parent else None,
                    path=path,
                )
            )
        region_ids |= _created_ids(Region, Region.objects.bulk_create(batch, batch_size=500), "code")

    # Units by depth in the unit tree.
    depth: dict[str, int] = {}
    for up in plan.units:
        depth[up.code] = depth[up.parent] + 1 if up.parent else 0
    unit_ids: dict[str, int] = {}
    unit_paths: dict[str, str] = {}
    for d in range(max(depth.values()) + 1):
        batch_u = []
        for up in plan.units:
            if depth[up.code] != d:
                continue
            path = (unit_paths[up.parent] if up.parent else "") + up.code + "/"
            unit_paths[up.code] = path
            batch_u.append(
                Unit(
                    code=up.code,
                    name=up.name,
                    short_name=up.short,
                    kind=up.kind,
                    region_id=region_ids[up.region],
                    parent_id=unit_ids[up.parent] if up.parent else None,
                    path=path,
                    level=region_levels[up.region],
                    sort=up.sort,
                    phone=up.phone,
                    address=up.address,
                    receives_paper=up.receives_paper,
                    created_at=now,
                )
            )
        unit_ids |= _created_ids(Unit, Unit.objects.bulk_create(batch_u, batch_size=500), "code")

    # Departments (科室).
    dept_objs = [
        Department(unit_id=unit_ids[up.code], name=name, phone=up.phone, sort=i)
        for up in plan.units
        for i, name in enumerate(up.sections, start=1)
    ]
    Department.objects.bulk_create(dept_objs, batch_size=1000)
    if any(d.pk is None for d in dept_objs):
        dept_ids = {
            (u, n): pk
            for pk, u, n in Department.objects.filter(unit_id__in=unit_ids.values()).values_list(
                "pk", "unit_id", "name"
            )
        }
    else:
        dept_ids = {(d.unit_id, d.name): d.pk for d in dept_objs}

    # Posts (岗位): one per unit, section and title, in the order people fill them.
    post_keys: dict[tuple[str, str | None, str], int] = {}
    post_objs: list[Post] = []
    per_unit: Counter[str] = Counter()
    for sp in plan.staff:
        for unit_code, section, post_name, _main in sp.posts:
            key = (unit_code, section, post_name)
            if key in post_keys:
                continue
            per_unit[unit_code] += 1
            post_keys[key] = len(post_objs)
            uid = unit_ids[unit_code]
            post_objs.append(
                Post(
                    unit_id=uid,
                    department_id=dept_ids[(uid, section)] if section else None,
                    name=post_name,
                    sort=per_unit[unit_code],
                )
            )
    Post.objects.bulk_create(post_objs, batch_size=1000)
    if any(p.pk is None for p in post_objs):
        raise RuntimeError("the database backend did not return the ids of new posts")

    # Accounts: one password hash for all (hashing 13,000 times would take minutes).
    def user_row(
        username: str,
        name: str,
        kind: str,
        mobile: str,
        email: str,
        days: int,
        *,
        unit: str | None = None,
        office_phone: str = "",
        platform_role: str = "",
    ) -> User:
        return User(
            username=username,
            name=name,
            kind=kind,
            platform_role=platform_role,
            password=ctx.password_hash,
            mobile=mobile,
            mobile_index=blind_index(mobile),
            email=email,
            email_index=blind_index(email),
            office_phone=office_phone,
            primary_unit_id=unit_ids[unit] if unit else None,
            is_active=True,
            is_staff=platform_role == "system_admin",
            date_joined=now - dt.timedelta(days=days),
            password_changed_at=now,
        )

    staff_objs = [
        user_row(
            sp.username,
            sp.name,
            AccountKind.STAFF,
            sp.mobile,
            sp.email,
            sp.joined_days_ago,
            unit=sp.unit,
            office_phone=sp.office_phone,
            platform_role=sp.platform_role,
        )
        for sp in plan.staff
    ]
    User.objects.bulk_create(staff_objs, batch_size=500)
    user_ids = _created_ids(User, staff_objs, "username")

    assignments = []
    roles = []
    for sp in plan.staff:
        uid = user_ids[sp.username]
        for unit_code, section, post_name, main in sp.posts:
            assignments.append(
                PostAssignment(
                    user_id=uid,
                    post_id=post_objs[post_keys[(unit_code, section, post_name)]].pk,
                    is_primary=main,
                    since=today - dt.timedelta(days=sp.joined_days_ago if main else sp.joined_days_ago // 3),
                )
            )
        for unit_code, role in sp.roles:
            roles.append(UnitRole(user_id=uid, unit_id=unit_ids[unit_code], role=role, granted_at=now))
    PostAssignment.objects.bulk_create(assignments, batch_size=1000)
    UnitRole.objects.bulk_create(roles, batch_size=1000)

    public_objs = [
        user_row(pp.username, pp.name, pp.kind, pp.mobile, pp.email, pp.joined_days_ago) for pp in plan.public
    ]
    User.objects.bulk_create(public_objs, batch_size=500)

    UnitGroup.objects.bulk_create(
        [
            UnitGroup(
                code=gp.code,
                name=gp.name,
                kinds=[str(k) for k in gp.kinds],
                level=gp.level,
                within_id=region_ids[gp.within] if gp.within else None,
                match_all=gp.match_all,
                owner_id=unit_ids[gp.owner] if gp.owner else None,
                sort=i,
            )
            for i, gp in enumerate(plan.groups, start=1)
        ],
        batch_size=500,
    )

    ctx.data["units"] = unit_ids
    ctx.data["regions"] = region_ids
    ctx.data["users"] = user_ids
    return {
        "regions": len(plan.regions),
        "villages": sum(1 for rp in plan.regions if rp.level == RegionLevel.VILLAGE),
        "units": len(plan.units),
        "departments": len(dept_objs),
        "posts": len(post_objs),
        "staff": len(staff_objs),
        "post_assignments": len(assignments),
        "unit_roles": len(roles),
        "public_accounts": len(public_objs),
        "groups": len(plan.groups),
    }


def reset(ctx: DemoContext) -> dict[str, int]:
    """Remove the demo organisation and its accounts (leaves other accounts and the trail alone)."""
    city_path = f"{data.CITY_CODE}/"
    regions = Region.objects.filter(path__startswith=city_path)
    units = Unit.objects.filter(region__path__startswith=city_path)
    unit_ids = list(units.values_list("pk", flat=True))
    group_codes = [g.code for g in _plan_groups([])] + [
        f"villages-{rp.code}" for rp in plan_regions_townships()
    ]
    counts: dict[str, int] = {}
    counts["groups"] = UnitGroup.objects.filter(
        Q(code__in=group_codes) | Q(owner_id__in=unit_ids) | Q(within__path__startswith=city_path)
    ).delete()[0]
    UnitRole.objects.filter(unit_id__in=unit_ids).delete()
    PostAssignment.objects.filter(post__unit_id__in=unit_ids).delete()
    Post.objects.filter(unit_id__in=unit_ids).delete()
    Department.objects.filter(unit_id__in=unit_ids).delete()
    accounts = User.objects.filter(
        Q(username__in=NAMED_USERNAMES)
        | Q(username__regex=GENERATED_USERNAME_REGEX)
        | Q(kind=AccountKind.STAFF, platform_role="", primary_unit_id__in=unit_ids)
    )
    counts["accounts"] = accounts.count()
    accounts.delete()
    counts["units"] = len(unit_ids)
    Unit.objects.filter(pk__in=unit_ids).update(parent=None)
    Unit.objects.filter(pk__in=unit_ids).delete()
    counts["regions"] = regions.count()
    Region.objects.filter(path__startswith=city_path).update(parent=None)
    Region.objects.filter(path__startswith=city_path).delete()
    return counts


def plan_regions_townships() -> list[RegionPlan]:
    """The township regions (their codes name the per-township groups), without planning the rest."""
    out = []
    for county in data.COUNTIES:
        for i, t in enumerate(county.towns):
            out.append(RegionPlan(f"{county.code}{100 + i}", t, RegionLevel.TOWNSHIP, county.code))
        for i, t in enumerate(county.townships):
            out.append(RegionPlan(f"{county.code}{200 + i}", t, RegionLevel.TOWNSHIP, county.code))
    return out
