"""The named demo accounts (演示账号): one per role, the same usernames as the test cast
(zhengwu/testing/cast.py), so that tests, documentation and the running demo speak of the same people."""

from __future__ import annotations

from dataclasses import dataclass

# One documented password for every demo account; it passes the password policy (≥ 12 characters, three
# character classes, not in a breached-password list).
DEMO_PASSWORD = "Zw#Demo-2026-pl"


@dataclass(frozen=True)
class NamedAccount:
    username: str
    name: str
    role_zh: str
    role_en: str
    unit_short: str = ""  # the unit's short name (单位简称); empty for public accounts
    post: str = ""  # the post they fill in that unit (the demo's staffing template names it)
    roles: tuple[str, ...] = ()
    platform_role: str = ""
    kind: str = "staff"
    mobile: str = ""
    email: str = ""


NAMED_ACCOUNTS: tuple[NamedAccount, ...] = (
    NamedAccount(
        "kt_clerk",
        "李文书",
        "乡镇文书（收发员、承办人）",
        "Township clerk (clerk, handler)",
        "崆峒镇",
        "文书",
        ("clerk", "handler"),
        mobile="13900000001",
    ),
    NamedAccount(
        "bs_clerk",
        "王文书",
        "另一乡镇文书",
        "Another township's clerk",
        "白水镇",
        "文书",
        ("clerk", "handler"),
    ),
    NamedAccount(
        "kt_admin", "赵管理", "乡镇单位管理员", "Township unit admin", "崆峒镇", "党政办主任", ("unit_admin",)
    ),
    NamedAccount(
        "kd_reviewer",
        "陈审核",
        "县区政府审核人",
        "County government reviewer",
        "崆峒区政府",
        "审核员",
        ("reviewer", "handler"),
    ),
    NamedAccount(
        "jc_clerk", "周文书", "县政府收发员", "County government clerk", "泾川县政府", "收发员", ("clerk",)
    ),
    NamedAccount(
        "city_leader",
        "刘市长",
        "市领导（副市长）",
        "City leader (vice mayor)",
        "市政府",
        "副市长",
        ("leader",),
    ),
    NamedAccount(
        "city_clerk",
        "孙秘书",
        "市政府文书",
        "City government clerk",
        "市政府",
        "文书",
        ("clerk", "handler"),
    ),
    NamedAccount("supervisor", "吴监察", "监察员", "Supervisor", "市监察局", "监察员", ("supervisor",)),
    NamedAccount(
        "outsider",
        "郑外人",
        "其他单位承办人",
        "Handler in another unit",
        "市文旅局",
        "科员",
        ("handler", "clerk"),
    ),
    NamedAccount(
        "sysadmin", "系统管理员", "系统管理员", "System admin", "市信息办", platform_role="system_admin"
    ),
    NamedAccount(
        "secadmin",
        "安全保密管理员",
        "安全保密管理员",
        "Security admin",
        "市信息办",
        platform_role="security_admin",
    ),
    NamedAccount(
        "auditadmin", "安全审计员", "安全审计员", "Audit admin", "市信息办", platform_role="audit_admin"
    ),
    NamedAccount(
        "citizen",
        "张三",
        "公众",
        "Citizen",
        kind="citizen",
        mobile="13800001234",
        email="zhangsan@example.com",
    ),
    NamedAccount(
        "enterprise",
        "平凉某某有限公司",
        "企业",
        "Enterprise",
        kind="enterprise",
        mobile="13800005678",
        email="company@example.com",
    ),
)

NAMED_USERNAMES = frozenset(a.username for a in NAMED_ACCOUNTS)
