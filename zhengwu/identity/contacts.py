"""Phone numbers and e-mail addresses as public accounts type them: parsed, normalised, indexed, masked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from zhengwu.core.fields import blind_index
from zhengwu.identity.models import CodeChannel
from zhengwu.lib.masking import mask_email, mask_phone

# Mainland mobile numbers: 11 digits starting 13x–19x.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True)
class Contact:
    channel: str
    value: str

    @property
    def index(self) -> str:
        return blind_index(self.value)

    @property
    def masked(self) -> str:
        return mask_phone(self.value) if self.channel == CodeChannel.SMS else mask_email(self.value)

    @property
    def label(self) -> str:
        return _("手机号") if self.channel == CodeChannel.SMS else _("电子邮箱")


def normalise_mobile(raw: str) -> str | None:
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if MOBILE_RE.match(digits) else None


def parse_contact(raw: str) -> Contact:
    """A phone number or an e-mail address, or a ValidationError with a message people understand."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError(_("请输入手机号或电子邮箱。"), code="required")
    if "@" in value:
        if len(value) > MAX_EMAIL_LENGTH:
            raise ValidationError(_("电子邮箱过长。"), code="max_length")
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(_("电子邮箱格式不正确。"), code="invalid_email") from None
        return Contact(CodeChannel.EMAIL, value.lower())
    mobile = normalise_mobile(value)
    if mobile is None:
        raise ValidationError(_("请输入正确的 11 位手机号或电子邮箱。"), code="invalid_mobile")
    return Contact(CodeChannel.SMS, mobile)
