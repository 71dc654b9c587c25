"""Password policy beyond Django's built-ins: a breached-password list and character classes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import MinimumLengthValidator as DjangoMinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BREACHED_LIST = Path(__file__).resolve().parent / "data" / "breached_passwords.txt"


@lru_cache(maxsize=1)
def _breached() -> frozenset[str]:
    if not BREACHED_LIST.exists():
        return frozenset()
    return frozenset(
        line.strip().lower()
        for line in BREACHED_LIST.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )


class MinimumLengthValidator(DjangoMinimumLengthValidator):
    """Django's length rule with its message in our catalogue (Django 5.2's zh-hans catalogue misses the
    reworded message and would show it in English)."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(n)d 个字符。") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少需要 %(n)d 个字符。") % {"n": self.min_length}


class BreachedPasswordValidator:
    """Refuses passwords from leaked-password lists, including those common in Chinese leaks
    (woaini1314, a1234567890, qq123456 …), also when they only differ by case or a trailing year/number run."""

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        stripped = lowered.rstrip("0123456789!@#.")
        if lowered in _breached() or (stripped and stripped in _breached() and len(stripped) >= 6):
            raise ValidationError(_("该密码出现在已泄露密码库中，请换一个"), code="password_breached")

    def get_help_text(self) -> str:
        return _("密码不能是已泄露或常见的密码。")


class CharacterClassValidator:
    """At least three of: upper case, lower case, digits, symbols (等保 requirement on complexity)."""

    def validate(self, password: str, user: Any = None) -> None:
        classes = sum(
            [
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            ]
        )
        if classes < 3:
            raise ValidationError(
                _("密码须至少包含大写字母、小写字母、数字、符号中的三类"), code="password_classes"
            )

    def get_help_text(self) -> str:
        return _("密码须至少包含大写字母、小写字母、数字、符号中的三类。")
