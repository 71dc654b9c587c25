"""Masking of personal data for lists and logs (脱敏)."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def mask_email(email: str) -> str:
    if "@" not in email:
        return mask_generic(email)
    local, domain = email.split("@", 1)
    head = local[:1] if local else ""
    return f"{head}***@{domain}"


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_generic(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_contact(value: str) -> str:
    return mask_email(value) if "@" in value else mask_phone(value)
