"""Meeting notices and registration (会议通知报名).

A meeting notice (会议通知) goes from an organizer unit to units (single units and recipient groups,
expanded into one invitation per unit when it is sent). Each invited unit — not a person — registers
(报名): its clerks name the attendees (参会人员), mark substitutes (代参会), change them until the
deadline, or decline (不参加) with a reason. A total cap puts later attendees on the waitlist (候补).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhengwu.core.fields import EncryptedTextField
from zhengwu.core.models import Unit, UnitGroup, User
from zhengwu.lib.masking import mask_phone

# The registration form's catalogue: the organizer picks which of these each attendee needs (name is
# always asked). key → (label, choices or None, max length). A choice is stored as its Chinese value (the
# data registered so far, and the length of the columns), shown and exported with its translated label.
FieldChoices = tuple[tuple[str, Any], ...]
FIELD_CATALOGUE: dict[str, tuple[Any, FieldChoices | None, int]] = {
    "post": (_("职务"), None, 64),
    "phone": (_("手机号"), None, 20),
    "gender": (
        _("性别"),
        (("男", pgettext_lazy("会议报名选项", "男")), ("女", pgettext_lazy("会议报名选项", "女"))),
        2,
    ),
    "ethnicity": (_("民族"), None, 16),
    "plate": (_("车牌号"), None, 16),
    "dining": (
        _("就餐"),
        (
            ("就餐", pgettext_lazy("会议报名选项", "就餐")),
            ("不就餐", pgettext_lazy("会议报名选项", "不就餐")),
        ),
        8,
    ),
    "accommodation": (
        _("住宿"),
        (
            ("住宿", pgettext_lazy("会议报名选项", "住宿")),
            ("不住宿", pgettext_lazy("会议报名选项", "不住宿")),
        ),
        8,
    ),
}


def field_value_label(key: str, value: str) -> str:
    """What an answer reads as in the user's language: a choice's label, anything typed as typed."""
    choices = FIELD_CATALOGUE.get(key, (None, None, 0))[1]
    return str(dict(choices).get(value, value)) if choices and value else value


class MeetingStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("已发出")
    CANCELLED = "cancelled", _("已取消")


class Meeting(models.Model):
    """会议通知: what, where, when, until when units register, and the form they fill in."""

    organizer = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="organized_meetings", verbose_name=_("组织单位")
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("拟稿人"))
    title = models.CharField(_("会议名称"), max_length=200)
    body = models.TextField(_("通知内容"), blank=True)
    place = models.CharField(_("会议地点"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    deadline = models.DateTimeField(_("报名截止时间"))
    cap_per_unit = models.PositiveIntegerField(_("每单位限报人数"), null=True, blank=True)
    total_cap = models.PositiveIntegerField(_("总人数上限"), null=True, blank=True)
    # [{"key": "phone", "required": true}, ...] — keys from FIELD_CATALOGUE, in display order.
    form_fields = models.JSONField(_("报名字段"), default=list, blank=True)
    recipient_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("通知单位"))
    recipient_groups = models.ManyToManyField(
        UnitGroup, blank=True, related_name="+", verbose_name=_("通知单位分组")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    changed_at = models.DateTimeField(_("变更时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["organizer", "starts_at"])]
        verbose_name = _("会议通知")
        verbose_name_plural = _("会议通知")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("meetings:manage", args=[self.pk])

    def field_specs(self) -> list[dict[str, Any]]:
        """The form's fields with their labels and choices, name first."""
        out: list[dict[str, Any]] = [{"key": "name", "label": _("姓名"), "required": True, "choices": None}]
        for item in self.form_fields or []:
            key = item.get("key")
            if key in FIELD_CATALOGUE:
                label, choices, _max = FIELD_CATALOGUE[key]
                out.append(
                    {"key": key, "label": label, "required": bool(item.get("required")), "choices": choices}
                )
        return out

    def asks(self, key: str) -> bool:
        return any(item.get("key") == key for item in self.form_fields or [])


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("未报名")
    REGISTERED = "registered", _("已报名")
    DECLINED = "declined", _("不参加")


class Invitation(models.Model):
    """One invited unit of a meeting and its answer (报名情况)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="meeting_invitations")
    status = models.CharField(
        _("报名状态"), max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    decline_reason = models.CharField(_("不参加原因"), max_length=200, blank=True)
    responded_at = models.DateTimeField(_("报名时间"), null=True, blank=True)
    responded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("报名人")
    )
    reminded_count = models.PositiveIntegerField(_("提醒次数"), default=0)
    last_reminded_on = models.DateField(_("最近提醒日期"), null=True, blank=True)

    class Meta:
        ordering = ["meeting_id", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["meeting", "unit"], name="meeting_invitation_unique")]
        indexes = [models.Index(fields=["meeting", "status"])]
        verbose_name = _("参会单位")
        verbose_name_plural = _("参会单位")

    def __str__(self) -> str:
        return f"{self.meeting} · {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("meetings:register", args=[self.meeting_id, self.unit_id])


class AttendeeStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已报名")
    WAITLISTED = "waitlisted", _("候补")
    CANCELLED = "cancelled", _("已取消")


ACTIVE = (AttendeeStatus.CONFIRMED, AttendeeStatus.WAITLISTED)


class Attendee(models.Model):
    """参会人员: a person a unit registered; phone encrypted at rest (SM4) and masked in lists."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(_("姓名"), max_length=32)
    post = models.CharField(_("职务"), max_length=64, blank=True)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    gender = models.CharField(_("性别"), max_length=2, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=16, blank=True)
    plate = models.CharField(_("车牌号"), max_length=16, blank=True)
    dining = models.CharField(_("就餐"), max_length=8, blank=True)
    accommodation = models.CharField(_("住宿"), max_length=8, blank=True)
    # 代参会: the invited person this attendee stands in for (blank: attends in person).
    substitute_for = models.CharField(_("代替参会人"), max_length=64, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=AttendeeStatus.choices, default=AttendeeStatus.CONFIRMED
    )
    registered_at = models.DateTimeField(_("报名时间"))
    changed_at = models.DateTimeField(_("修改时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["invitation__unit__path", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "name"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="meeting_attendee_unique_active_name",
            )
        ]
        indexes = [models.Index(fields=["meeting", "status", "registered_at"])]
        verbose_name = _("参会人员")
        verbose_name_plural = _("参会人员")

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def gender_label(self) -> str:
        return field_value_label("gender", self.gender)

    @property
    def dining_label(self) -> str:
        return field_value_label("dining", self.dining)

    @property
    def accommodation_label(self) -> str:
        return field_value_label("accommodation", self.accommodation)

    @property
    def is_substitute(self) -> bool:
        return bool(self.substitute_for)
