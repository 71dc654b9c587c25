from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zhengwu.core.audit import audit_record
from zhengwu.core.models import AccountKind, PlatformRole, User


class Command(BaseCommand):
    help = "创建平台管理员（系统/安全保密/安全审计） / create a platform administrator"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--role", choices=[r for r in PlatformRole.values if r], default="system_admin")
        parser.add_argument("--username")
        parser.add_argument("--name")
        parser.add_argument("--password", help="非交互使用 / for scripts; otherwise prompted")

    def handle(self, *args: Any, **opts: Any) -> None:
        username = opts["username"] or input("用户名 / username: ").strip()
        name = opts["name"] or input("姓名 / name: ").strip() or username
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户名已存在 / username exists: {username}")
        password = opts["password"] or getpass.getpass("密码 / password (≥12): ")
        user = User(username=username, name=name, kind=AccountKind.STAFF, platform_role=opts["role"])
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        with transaction.atomic():
            user.set_password(password)
            user.is_staff = opts["role"] == PlatformRole.SYSTEM_ADMIN
            user.save()
            audit_record(action="staff.create_admin", obj=user, after={"platform_role": opts["role"]})
        self.stdout.write(
            self.style.SUCCESS(
                f"已创建 {user.get_platform_role_display()} {username}。首次登录须绑定动态口令。 / created; TOTP is required at first sign-in."
            )
        )
