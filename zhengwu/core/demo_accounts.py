"""The demo accounts table (演示账号), printed by `zhengwu demo` and at the start of `zhengwu serve`."""

from __future__ import annotations

import unicodedata

from zhengwu.core.demo.named import DEMO_PASSWORD, NAMED_ACCOUNTS


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def demo_accounts_text() -> str:
    """A bilingual table of the demo accounts (role, username, unit) and their password.

    Empty when the demo city has not been built, so that `zhengwu serve` on a real deployment prints
    nothing about demo accounts.
    """
    from zhengwu.core.demo import demo_exists
    from zhengwu.core.models import User

    if not demo_exists():
        return ""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[a.username for a in NAMED_ACCOUNTS]).select_related(
            "primary_unit"
        )
    }
    rows = [("角色 / role", "用户名 / username", "单位 / unit")]
    for account in NAMED_ACCOUNTS:
        user = users.get(account.username)
        if user is None:
            continue
        unit = user.primary_unit.name if user.primary_unit is not None else "公众账号 / public account"
        rows.append((f"{account.role_zh} / {account.role_en}", account.username, unit))
    widths = [max(_width(row[i]) for row in rows) for i in range(2)]
    lines = ["", "  演示账号 / demo accounts", ""]
    for i, (role, username, unit) in enumerate(rows):
        lines.append(f"  {_pad(role, widths[0])}  {_pad(username, widths[1])}  {unit}")
        if i == 0:
            lines.append(f"  {'-' * widths[0]}  {'-' * widths[1]}  {'-' * 20}")
    lines += [
        "",
        f"  密码（全部演示账号） / password (every demo account): {DEMO_PASSWORD}",
        "  工作人员登录 /accounts/login/ · 公众登录 /public/login/ — staff and public sign-in",
        "  平台管理员首次登录须绑定动态口令（TOTP） / platform admins enrol a TOTP device at first sign-in",
        "",
    ]
    return "\n".join(lines)
