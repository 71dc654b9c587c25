"""The admin-editable calendar table (工作日历调整).

A row says what one day is, whatever the chinesecalendar package says: it wins over the package, and it is
the only source for years the package does not know yet (the State Council publishes each year's holiday
arrangement in the preceding November or December).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """One overridden day: a holiday (节假日) or a working day (工作日, e.g. 调休上班)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=32, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changed_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        ordering = ["date"]
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")

    def __str__(self) -> str:
        kind = _("工作日") if self.is_workday else _("节假日")
        return f"{self.date.isoformat()} {self.name or kind}"
