"""Official documents (公文, GB/T 9704-2012) and their exchange between units (公文交换)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import Unit, UnitGroup


class DocType(models.TextChoices):
    """The 15 types of 《党政机关公文处理工作条例》."""

    RESOLUTION = "resolution", _("决议")
    DECISION = "decision", _("决定")
    ORDER = "order", _("命令")
    COMMUNIQUE = "communique", _("公报")
    ANNOUNCEMENT = "announcement", _("公告")
    PUBLIC_NOTICE = "public_notice", _("通告")
    OPINION = "opinion", _("意见")
    NOTICE = "notice", _("通知")
    BULLETIN = "bulletin", _("通报")
    REPORT = "report", _("报告")
    REQUEST = "request", _("请示")
    REPLY = "reply", _("批复")
    MOTION = "motion", _("议案")
    LETTER = "letter", _("函")
    MINUTES = "minutes", _("纪要")


UPWARD_TYPES = {DocType.REQUEST, DocType.REPORT}  # 上行文


class Secrecy(models.TextChoices):
    """密级. Only 非密 is ever stored: the platform refuses classified documents at every entry point."""

    NONE = "none", _("非密")
    SECRET = "secret", _("秘密")
    CONFIDENTIAL = "confidential", _("机密")
    TOP_SECRET = "top_secret", _("绝密")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("普通")
    URGENT = "urgent", _("加急")
    VERY_URGENT = "very_urgent", _("特急")


class Retention(models.TextChoices):
    """保管期限 of the archived document (文书档案保管期限)."""

    PERMANENT = "permanent", _("永久")
    YEARS_30 = "30y", _("30年")
    YEARS_10 = "10y", _("10年")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("拟稿")
    CHECK = "check", _("核稿")
    SIGN_OFF = "sign_off", _("签发")
    NUMBER = "number", _("编号")
    SEAL = "seal", _("用印")
    DISTRIBUTE = "distribute", _("分发")
    SENT = "sent", _("已分发")
    CANCELLED = "cancelled", _("已撤销")


class Document(models.Model):
    """公文: an outgoing document of a unit with the elements of GB/T 9704-2012."""

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="documents", verbose_name=_("发文单位")
    )
    doc_type = models.CharField(_("文种"), max_length=16, choices=DocType.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT, db_index=True
    )
    copy_no = models.CharField(_("份号"), max_length=16, blank=True)
    secrecy = models.CharField(_("密级"), max_length=16, choices=Secrecy.choices, default=Secrecy.NONE)
    secrecy_period = models.CharField(_("保密期限"), max_length=32, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    issuer_mark = models.CharField(_("发文机关标志"), max_length=128, blank=True)
    number_code = models.CharField(_("发文代字"), max_length=16)
    number_year = models.PositiveIntegerField(_("年份"), null=True, blank=True)
    number_seq = models.PositiveIntegerField(_("序号"), null=True, blank=True)
    document_number = models.CharField(_("发文字号"), max_length=64, blank=True, db_index=True)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签发人"),
    )
    signer_name = models.CharField(_("签发人"), max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    main_to = models.CharField(_("主送机关"), max_length=500, blank=True)
    body_text = models.TextField(_("正文摘要"), blank=True)
    attachment_note = models.CharField(_("附件说明"), max_length=500, blank=True)
    issuer_signature = models.CharField(_("发文机关署名"), max_length=200, blank=True)
    written_on = models.DateField(_("成文日期"), null=True, blank=True)
    sealed = models.BooleanField(_("印章"), default=False)
    sealed_at = models.DateTimeField(null=True, blank=True)
    remark = models.CharField(_("附注"), max_length=500, blank=True)
    cc_to = models.CharField(_("抄送机关"), max_length=500, blank=True)
    printed_by = models.CharField(_("印发机关"), max_length=128, blank=True)
    printed_on = models.DateField(_("印发日期"), null=True, blank=True)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("所答复的请示"),
    )
    digest = models.CharField(_("SM3 摘要"), max_length=64, blank=True)
    retention = models.CharField(
        _("保管期限"), max_length=16, choices=Retention.choices, default=Retention.YEARS_10
    )
    instance_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Belt and braces beside the services' check: a classified document can never be stored.
            models.CheckConstraint(condition=Q(secrecy="none"), name="document_not_classified"),
            models.UniqueConstraint(
                fields=["unit", "number_code", "number_year", "number_seq"],
                condition=Q(number_seq__isnull=False),
                name="document_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["unit", "status", "-created_at"])]
        verbose_name = _("公文")
        verbose_name_plural = _("公文")

    def __str__(self) -> str:
        return f"{self.document_number} {self.title}".strip()

    def get_absolute_url(self) -> str:
        return reverse("documents:detail", args=[self.pk])

    @property
    def is_upward(self) -> bool:
        return self.doc_type in UPWARD_TYPES


class FileKind(models.TextChoices):
    BODY = "body", _("正文")
    ATTACHMENT = "attachment", _("附件")


class DocumentFile(models.Model):
    """A body or attachment file (PDF, OFD, Word) kept with its SM3 digest, checked on every download."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类别"), max_length=16, choices=FileKind.choices)
    name = models.CharField(_("文件名"), max_length=200)
    file = models.FileField(upload_to="documents/%Y/%m/", max_length=300)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sm3 = models.CharField(_("SM3 摘要"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("公文文件")
        verbose_name_plural = _("公文文件")

    def __str__(self) -> str:
        return self.name

    @property
    def is_pdf(self) -> bool:
        return self.name.lower().endswith(".pdf")


class RecipientRole(models.TextChoices):
    MAIN = "main", _("主送")
    COPY = "copy", _("抄送")


class DocumentRecipient(models.Model):
    """Whom the drafter addressed: a unit or a group, as main (主送) or copy (抄送); expanded on distribution."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="recipients")
    role = models.CharField(max_length=8, choices=RecipientRole.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    group = models.ForeignKey(UnitGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, group__isnull=True)
                | Q(unit__isnull=True, group__isnull=False),
                name="document_recipient_unit_xor_group",
            )
        ]

    def __str__(self) -> str:
        return str(self.unit or self.group)


class DocumentNumberCounter(models.Model):
    """The last number given per unit, 代字 and year; locked while a number is taken (no gap, no double)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "code", "year"], name="document_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code}〔{self.year}〕{self.last}"


class ReceiptState(models.TextChoices):
    DELIVERED = "delivered", _("待签收")
    READ = "read", _("已阅未签")
    RECEIVED = "received", _("已签收")
    REFUSED = "refused", _("已退文")
    RECALLED = "recalled", _("已撤回")


UNSIGNED_STATES = (ReceiptState.DELIVERED, ReceiptState.READ)


class DocumentReceipt(models.Model):
    """One recipient unit's copy of a sent document (its 收文 inbox row), with its exchange state."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="receipts")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="document_receipts")
    role = models.CharField(max_length=8, choices=RecipientRole.choices, default=RecipientRole.MAIN)
    state = models.CharField(max_length=16, choices=ReceiptState.choices, default=ReceiptState.DELIVERED)
    # Copied from the document so the inbox lists and filters without a join.
    title = models.CharField(max_length=200)
    document_number = models.CharField(max_length=64, blank=True)
    doc_type = models.CharField(max_length=16, choices=DocType.choices)
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    sender_name = models.CharField(max_length=128)
    sent_at = models.DateTimeField()
    first_sent_at = models.DateTimeField()
    round = models.PositiveSmallIntegerField(default=1)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    received_by_name = models.CharField(max_length=64, blank=True)
    received_digest = models.CharField(max_length=64, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    refuse_reason = models.CharField(max_length=500, blank=True)
    recalled_at = models.DateTimeField(null=True, blank=True)
    paper = models.BooleanField(_("纸质件"), default=False)
    paper_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "unit"], name="document_receipt_unique")]
        indexes = [
            models.Index(fields=["unit", "state", "-sent_at"], name="doc_receipt_inbox"),
            models.Index(fields=["unit", "-sent_at"], name="doc_receipt_unit_sent"),
            models.Index(fields=["document", "state"], name="doc_receipt_doc_state"),
            models.Index(fields=["unit", "document_number"], name="doc_receipt_unit_number"),
        ]
        verbose_name = _("收文签收")
        verbose_name_plural = _("收文签收")

    def __str__(self) -> str:
        return f"{self.title} → {self.unit_id}"

    def get_absolute_url(self) -> str:
        return reverse("documents:incoming", args=[self.pk])

    @property
    def is_unsigned(self) -> bool:
        return self.state in UNSIGNED_STATES


class IncomingStatus(models.TextChoices):
    REGISTER = "register", _("登记")
    PROPOSE = "propose", _("拟办")
    INSTRUCT = "instruct", _("批办")
    HANDLE = "handle", _("承办")
    REPLY = "reply", _("答复")
    ARCHIVE = "archive", _("归档")
    DONE = "done", _("已归档")


class IncomingRecord(models.Model):
    """收文登记: a signed copy registered in the receiving unit with its receiving number, handled on the
    process engine (拟办 → 批办 → 承办 by departments in parallel → 答复 → 归档), every opinion kept on the
    process's to-do rows; circulated for reading (传阅) at any time."""

    receipt = models.OneToOneField(DocumentReceipt, on_delete=models.PROTECT, related_name="incoming")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    receiving_year = models.PositiveIntegerField()
    receiving_seq = models.PositiveIntegerField()
    receiving_number = models.CharField(_("收文编号"), max_length=64)
    status = models.CharField(max_length=16, choices=IncomingStatus.choices, default=IncomingStatus.REGISTER)
    instance_id = models.BigIntegerField(null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    # Set at 批办: whether the document asks for a reply (答复), and how many times it was instructed
    # (a send-back to 批办 starts a new round of departments).
    needs_reply = models.BooleanField(_("需要答复"), default=False)
    # Circulation never holds up handling, unless 批办 says the readers must have read it before 归档.
    read_before_archive = models.BooleanField(_("阅毕方可归档"), default=False)
    instruct_round = models.PositiveSmallIntegerField(default=0)
    reply_document = models.ForeignKey(
        Document,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answered_records",
        verbose_name=_("答复文件"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "receiving_year", "receiving_seq"], name="incoming_receiving_number_unique"
            )
        ]
        verbose_name = _("收文登记")
        verbose_name_plural = _("收文登记")

    def __str__(self) -> str:
        return f"{self.receiving_number} {self.receipt.title}"

    def get_absolute_url(self) -> str:
        return reverse("documents:incoming", args=[self.receipt_id])


class PartRole(models.TextChoices):
    LEAD = "lead", _("主办")
    CO = "co", _("协办")


class IncomingPart(models.Model):
    """承办科室: one department's part in handling a received document, chosen at 批办 with its handler
    and its own time limit in working days; its to-do (and so its due date and card) is a flow Task."""

    record = models.ForeignKey(IncomingRecord, on_delete=models.CASCADE, related_name="parts")
    round = models.PositiveSmallIntegerField(default=1)
    department = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("科室")
    )
    role = models.CharField(_("主办/协办"), max_length=8, choices=PartRole.choices)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("承办人")
    )
    limit_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    task = models.ForeignKey("flow.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record_id", "round", "-role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "round", "department"], name="incoming_part_one_per_department"
            ),
            models.UniqueConstraint(
                fields=["record", "round"], condition=Q(role="lead"), name="incoming_part_one_lead"
            ),
        ]
        verbose_name = _("承办科室")
        verbose_name_plural = _("承办科室")

    def __str__(self) -> str:
        return f"{self.department} ({self.get_role_display()})"

    @property
    def limit(self) -> str:
        return f"{self.limit_days}wd"


class IncomingComment(models.Model):
    """阅办意见: what a reader of a circulated document (传阅) wrote; kept with the record for good."""

    record = models.ForeignKey(IncomingRecord, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_item = models.ForeignKey(
        "flow.ReadItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("意见"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("阅办意见")
        verbose_name_plural = _("阅办意见")

    def __str__(self) -> str:
        return f"{self.author_id}: {self.text[:20]}"
