"""Processes, their running instances, to-do items and the time they are held to (流程、待办、时限).

A `ProcessDefinition` is one published version of a BPMN 2.0 file (with its DMN tables); it never changes
after publishing, and a new upload becomes a new version. A `ProcessInstance` runs one definition version
for one business object; its whole SpiffWorkflow state is kept in the row as JSON and written in the
same transaction as every step. Each ready user task of an instance is a `Task` (待办) assigned to a
person, a post or a role within a unit. `ClockStop` and `DeadlineEvent` carry the government-time side:
stopped clocks (暂停计时) and the warning → yellow → red history supervision reads.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import Post, Unit
from zhengwu.workdays.calendar import StopReason


class ProcessDefinition(models.Model):
    """One published version of a process (流程定义): BPMN XML, its DMN tables, and what we read from them.

    Only platform system administrators publish (BPMN scripts and conditions are executed as Python).
    Rows are immutable once written: running instances keep pointing at the version they started on.
    """

    key = models.SlugField(_("流程标识"), max_length=64)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("名称"), max_length=128)
    bpmn_xml = models.TextField(_("BPMN 文件"))
    dmn_files = models.JSONField(_("DMN 决策表"), default=dict, blank=True)  # {filename: xml}
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    checksum = models.CharField(_("校验值 (SM3)"), max_length=64, db_index=True)
    # What the engine needs at run time, read once at publish time: steps (name, kind, lane, properties,
    # form fields) and the process-level properties (legal_limit, promised_limit …).
    steps = models.JSONField(default=dict, editable=False)
    properties = models.JSONField(default=dict, editable=False)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发布人"),
    )
    source = models.CharField(_("来源"), max_length=16, default="upload")  # repository | upload

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="flow_definition_key_version")]
        verbose_name = _("流程定义")
        verbose_name_plural = _("流程定义")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("flow:definition_detail", args=[self.pk])

    def step(self, bpmn_id: str) -> dict[str, Any]:
        return self.steps.get(bpmn_id) or {"id": bpmn_id, "name": bpmn_id, "kind": "", "props": {}}


class DeadlineState(models.TextChoices):
    NORMAL = "normal", _("正常")
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("办理中")
    COMPLETED = "completed", _("已办结")
    CANCELLED = "cancelled", _("已终止")


class ProcessInstance(models.Model):
    """One running (or finished) process for one business object (流程实例)."""

    definition = models.ForeignKey(
        ProcessDefinition, on_delete=models.PROTECT, related_name="instances", verbose_name=_("流程定义")
    )
    business_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("业务类型")
    )
    business_id = models.CharField(_("业务编号"), max_length=64)
    business = GenericForeignKey("business_type", "business_id")
    title = models.CharField(_("标题"), max_length=200)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="process_instances", verbose_name=_("主办单位")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING
    )
    # The SpiffWorkflow serialisation (BpmnWorkflowSerializer.to_dict) and the serializer version that
    # wrote it; an older version is migrated with SpiffWorkflow's own migrations when loaded.
    state = models.JSONField(default=dict, editable=False)
    serializer_version = models.CharField(max_length=16, editable=False)
    revision = models.PositiveIntegerField(default=0, editable=False)
    current_steps = models.CharField(_("当前环节"), max_length=200, blank=True)
    legal_limit = models.CharField(_("法定时限"), max_length=16, blank=True)
    promised_limit = models.CharField(_("承诺时限"), max_length=16, blank=True)
    legal_due_at = models.DateTimeField(_("法定办结期限"), null=True, blank=True)
    promised_due_at = models.DateTimeField(_("承诺办结期限"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发起人"),
    )
    started_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The case as a whole against its promised and legal limits (see zhengwu.flow.deadlines): warning
    # before the first due date, yellow past the promised one, red past the legal one.
    warning_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    deadline_state = models.CharField(
        _("时限状态"), max_length=8, choices=DeadlineState.choices, default=DeadlineState.NORMAL
    )
    # The earliest moment a BPMN timer event of the instance may fire; the periodic job refreshes it then.
    timer_due_at = models.DateTimeField(_("定时事件时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["business_type", "business_id"]),
            models.Index(fields=["unit", "status"]),
            models.Index(fields=["status", "started_at"]),
            models.Index(fields=["status", "timer_due_at"], name="flow_instance_timer_due"),
        ]
        verbose_name = _("流程实例")
        verbose_name_plural = _("流程实例")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("flow:instance_detail", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status == InstanceStatus.RUNNING


class AssignKind(models.TextChoices):
    PERSON = "person", _("个人")
    POST = "post", _("岗位")
    ROLE = "role", _("角色")


class SignMode(models.TextChoices):
    SINGLE = "single", _("单人办理")
    COUNTERSIGN = "countersign", _("会签")
    ANY_SIGN = "any_sign", _("或签")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    COMPLETED = "completed", _("已办")
    SENT_BACK = "sent_back", _("已退回")
    CANCELLED = "cancelled", _("已关闭")


class Task(models.Model):
    """A to-do item (待办): one ready user task of an instance, in one unit, for a person, post or role.

    Post and role tasks are claimed (签收) by one holder before they are worked on. A person task that
    arrives while its person has delegated their work (委托) goes to the delegate, marked as delegated.
    """

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("流程实例")
    )
    spiff_task_id = models.UUIDField(editable=False)
    step_id = models.CharField(_("环节标识"), max_length=64)
    name = models.CharField(_("环节"), max_length=128)
    title = models.CharField(_("标题"), max_length=300)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="flow_tasks", verbose_name=_("办理单位")
    )
    assign_kind = models.CharField(_("分派方式"), max_length=8, choices=AssignKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="flow_tasks",
        verbose_name=_("办理人"),
    )
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="flow_tasks",
        verbose_name=_("岗位"),
    )
    role = models.CharField(_("角色"), max_length=16, blank=True)
    sign_mode = models.CharField(
        _("办理方式"), max_length=12, choices=SignMode.choices, default=SignMode.SINGLE
    )
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("委托人"),
    )
    transferred_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("转办人"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    claimed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("办理人"),
    )
    outcome = models.CharField(_("办理结果"), max_length=32, blank=True)
    opinion = models.TextField(_("办理意见"), blank=True)
    form_data = models.JSONField(_("表单"), default=dict, blank=True)
    urge_count = models.PositiveIntegerField(_("催办次数"), default=0)
    last_urged_at = models.DateTimeField(_("最近催办"), null=True, blank=True)
    # Government time (see zhengwu.workdays): limits as text ("3wd", "15d", "24h") and the moments they
    # give, recomputed whenever a clock stops or restarts. The deadline sweep moves deadline_state.
    limit = models.CharField(_("环节时限"), max_length=16, blank=True)
    legal_limit = models.CharField(_("法定时限"), max_length=16, blank=True)
    promised_limit = models.CharField(_("承诺时限"), max_length=16, blank=True)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    due_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    legal_due_at = models.DateTimeField(_("法定到期时间"), null=True, blank=True)
    promised_due_at = models.DateTimeField(_("承诺到期时间"), null=True, blank=True)
    warning_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    deadline_state = models.CharField(
        _("时限状态"), max_length=8, choices=DeadlineState.choices, default=DeadlineState.NORMAL
    )
    clock_stopped = models.BooleanField(_("暂停计时中"), default=False)
    # 红牌时间: the moment the step is seriously late (red_after past due_at, 3 working days by default).
    red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    # When the process's behaviour on breach (on_breach: escalate / auto_advance / deemed …) was applied.
    breach_handled_at = models.DateTimeField(_("超期处置时间"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["unit", "role", "status"]),
            models.Index(fields=["post", "status"]),
            models.Index(fields=["instance", "status"]),
            models.Index(fields=["completed_by", "-completed_at"]),
            models.Index(fields=["status", "due_at"], name="flow_task_open_due"),
        ]
        constraints = [
            # A Spiff task has at most one open to-do; a step returned to later gets a new row.
            models.UniqueConstraint(
                fields=["instance", "spiff_task_id"],
                condition=Q(status="open"),
                name="flow_task_one_open_per_spiff_task",
            ),
        ]
        verbose_name = _("待办事项")
        verbose_name_plural = _("待办事项")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("flow:task_detail", args=[self.pk])

    @property
    def unit_label(self) -> str:
        return self.unit.display_name

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def holder_label(self) -> str:
        """Who holds the task, for people: a name, or the post / role waiting to be claimed."""
        if self.assignee_id:
            return self.assignee.name
        if self.post_id:
            return _("%(post)s（待签收）") % {"post": self.post.name}
        from zhengwu.core.models import UnitRoleKind

        label = dict(UnitRoleKind.choices).get(self.role, self.role)
        return _("%(unit)s%(role)s（待签收）") % {"unit": self.unit.display_name, "role": label}


class Delegation(models.Model):
    """委托: while away, a staff member's newly arriving person tasks go to a colleague in the same unit."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_out",
        verbose_name=_("委托人"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_in",
        verbose_name=_("受托人"),
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["delegator", "starts_on", "ends_on"])]
        verbose_name = _("委托")
        verbose_name_plural = _("委托")

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.starts_on}–{self.ends_on})"


class ReadItem(models.Model):
    """待阅: an instance circulated to someone for reading, with the read receipt (阅读回执)."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="read_items", verbose_name=_("流程实例")
    )
    task = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="read_items",
        verbose_name=_("环节"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="flow_read_items",
        verbose_name=_("阅读人"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("传阅人")
    )
    title = models.CharField(_("标题"), max_length=300)
    note = models.CharField(_("传阅说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("传阅时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("待阅事项")
        verbose_name_plural = _("待阅事项")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("flow:read_item", args=[self.pk])


class EventAction(models.TextChoices):
    STARTED = "started", _("发起")
    CLAIMED = "claimed", _("签收")
    COMPLETED = "completed", _("办理")
    SENT_BACK = "sent_back", _("退回")
    TRANSFERRED = "transferred", _("转办")
    DELEGATED = "delegated", _("委托办理")
    URGED = "urged", _("催办")
    CIRCULATED = "circulated", _("传阅")
    CLOCK_STOPPED = "clock_stopped", _("暂停计时")
    CLOCK_RESUMED = "clock_resumed", _("恢复计时")
    FINISHED = "finished", _("办结")
    EXTENDED = "extended", _("延长期限")
    # Written by the deadline watch (zhengwu.flow.deadlines), never by a person.
    ESCALATED = "escalated", _("逾期升级")
    AUTO_ADVANCED = "auto_advanced", _("逾期自动流转")
    DEEMED_APPROVED = "deemed_approved", _("逾期视为同意")
    DEEMED_REJECTED = "deemed_rejected", _("逾期视为不同意")
    BREACH_FAILED = "breach_failed", _("超期处置未执行")
    TIMER_FIRED = "timer_fired", _("定时事件")


class InstanceEvent(models.Model):
    """The history of an instance as people read it (the tamper-evident copy is in the trail)."""

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="events")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    action = models.CharField(_("动作"), max_length=24)  # an EventAction value
    step_name = models.CharField(_("环节"), max_length=128, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=128, blank=True)
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("流程记录")
        verbose_name_plural = _("流程记录")

    def __str__(self) -> str:
        return f"{self.action} {self.step_name}"

    @property
    def action_label(self) -> str:
        return str(EventAction(self.action).label) if self.action in EventAction.values else self.action


class ClockStop(models.Model):
    """暂停计时: a period that does not count toward a limit (补正, 听证, 公告, 专家评审, 检验检测).

    Belongs to one task (that step's clock) or to a whole instance (the process clock); when it ends the
    record keeps how many working days it took out, and the due dates it touched are recomputed.
    """

    task = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clock_stops",
        verbose_name=_("环节"),
    )
    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clock_stops",
        verbose_name=_("流程实例"),
    )
    reason = models.CharField(_("事由"), max_length=16, choices=StopReason.choices)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("暂停时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stopped_working_days = models.PositiveIntegerField(_("暂停工作日数"), null=True, blank=True)
    automatic = models.BooleanField(_("环节自动暂停"), default=False)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(task__isnull=False) | Q(instance__isnull=False), name="flow_clockstop_has_owner"
            ),
        ]
        verbose_name = _("暂停计时")
        verbose_name_plural = _("暂停计时")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.started_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class DeadlineEvent(models.Model):
    """A change of a task's deadline state (正常 → 预警 → 黄牌 → 红牌), kept for electronic supervision.

    Events of a step carry both the task and its instance; events of the case as a whole carry only the
    instance.
    """

    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="deadline_events"
    )
    instance = models.ForeignKey(
        ProcessInstance,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadline_events",
    )
    from_state = models.CharField(max_length=8, choices=DeadlineState.choices)
    to_state = models.CharField(max_length=8, choices=DeadlineState.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.CharField(max_length=500, blank=True)
    # The people concerned were told (in the sweep's notification step); empty: still to tell. The change
    # and this mark are written in separate transactions, so a crash in between only delays the notice.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(notified_at__isnull=True), name="flow_deadlineevent_unnotified"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(task__isnull=False) | Q(instance__isnull=False),
                name="flow_deadlineevent_has_owner",
            ),
        ]
        verbose_name = _("时限状态变化")
        verbose_name_plural = _("时限状态变化")

    def __str__(self) -> str:
        return f"{self.task_id}: {self.from_state} → {self.to_state}"


class SampleCaseStatus(models.TextChoices):
    NEW = "new", _("新建")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已办结")


class SampleCase(models.Model):
    """A generic demonstration case (示例办件) the sample process runs against."""

    title = models.CharField(_("事项名称"), max_length=200)
    applicant = models.CharField(_("申请人"), max_length=100)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("牵头单位"))
    status = models.CharField(
        _("状态"), max_length=12, choices=SampleCaseStatus.choices, default=SampleCaseStatus.NEW
    )
    current_step = models.CharField(_("当前环节"), max_length=200, blank=True)
    steps_done = models.PositiveIntegerField(_("已办环节数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("示例办件")
        verbose_name_plural = _("示例办件")

    def __str__(self) -> str:
        return self.title
