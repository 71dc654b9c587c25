"""Government information disclosure (政府信息公开): the disclosure catalogue (政务信息公开目录) with its
index numbers (索引号), the annual disclosure reports (年度报告) and disclosure on request (依申请公开).

A catalogue entry is made for every published portal item whose disclosure attribute is 主动公开; it
keeps its index number for life (a withdrawn item leaves the catalogue and, republished, comes back with
the same number). A disclosure request runs on the process engine (登记受理 → 办理 → 答复) and is held to
the statutory 20 working days, extended once by 20 with a leader's approval, the clock stopped while the
applicant supplements (补正). The applicant's personal data is encrypted at rest.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengwu.core.fields import EncryptedTextField
from zhengwu.core.models import Unit
from zhengwu.lib.masking import mask_id_number, mask_name, mask_phone

DEFAULT_INDEX_PATTERN = "{unit_code}/{category_code}-{year}-{seq:05d}"


class Category(models.Model):
    """公开目录分类: one node of the catalogue's category tree (机构职能, 政策文件 …), two levels deep."""

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级分类"),
    )
    code = models.CharField(_("分类代码"), max_length=16, unique=True)
    name = models.CharField(_("分类名称"), max_length=32)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    # Which published items fall in this category by default: portal column slugs and item kinds.
    column_slugs = models.CharField(_("对应栏目路径"), max_length=200, blank=True)
    item_kinds = models.CharField(_("对应信息类型"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("公开目录分类")
        verbose_name_plural = _("公开目录分类")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("disclosure:catalogue") + f"?category={self.pk}"

    @property
    def slugs(self) -> list[str]:
        return [s.strip() for s in self.column_slugs.split(",") if s.strip()]

    @property
    def kinds(self) -> list[str]:
        return [s.strip() for s in self.item_kinds.split(",") if s.strip()]


class IndexRule(models.Model):
    """索引号规则: the platform's one format for index numbers (the newest row applies).

    Fields: ``{unit_code}``, ``{category_code}``, ``{year}``, ``{seq}`` (``{seq:05d}`` pads it). The
    sequence runs per unit and year — and per category when the rule names the category — so any valid
    rule gives unique numbers; the catalogue's unique constraint is the last guard.
    """

    pattern = models.CharField(_("索引号格式"), max_length=64, default=DEFAULT_INDEX_PATTERN)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("索引号规则")
        verbose_name_plural = _("索引号规则")

    def __str__(self) -> str:
        return self.pattern


class SequenceCounter(models.Model):
    """The last number taken per (unit, scope, year): index numbers (scope = category code or "*") and
    request numbers (scope "YSQ"). Locked while taken, so there is never a gap or a double."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "scope", "year"], name="disclosure_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.scope} {self.year}: {self.last}"


class CatalogueEntry(models.Model):
    """公开目录条目: one proactively disclosed item of a unit, with its index number (索引号)."""

    item = models.OneToOneField(
        "portal.Item", on_delete=models.CASCADE, related_name="catalogue_entry", verbose_name=_("信息")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="catalogue_entries", verbose_name=_("公开单位")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="entries", verbose_name=_("公开目录分类")
    )
    index_number = models.CharField(_("索引号"), max_length=80, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    subject_words = models.CharField(_("主题词"), max_length=100, blank=True)
    issuing_unit = models.CharField(_("发布机构"), max_length=128)
    document_number = models.CharField(_("文号"), max_length=64, blank=True)
    date = models.DateField(_("生成日期"))
    url = models.CharField(max_length=500)
    is_listed = models.BooleanField(_("在目录中"), default=True)
    listed_at = models.DateTimeField(_("编目时间"), default=timezone.now)
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["unit", "is_listed", "-date"]),
            models.Index(fields=["category", "is_listed", "-date"]),
        ]
        verbose_name = _("公开目录条目")
        verbose_name_plural = _("公开目录条目")

    def __str__(self) -> str:
        return f"{self.index_number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("disclosure:entry", args=[self.pk])


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class AnnualReport(models.Model):
    """政府信息公开工作年度报告: one unit's report for one year — figures generated from the data, the
    text written by the unit, published on the portal."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("单位"))
    year = models.PositiveIntegerField(_("年度"))
    figures = models.JSONField(default=dict)
    overview = models.TextField(_("总体情况"), max_length=5000, blank=True)
    problems = models.TextField(_("存在的主要问题及改进情况"), max_length=5000, blank=True)
    other = models.TextField(_("其他需要报告的事项"), max_length=5000, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    generated_at = models.DateTimeField(_("统计时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-year", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="disclosure_report_unique")]
        verbose_name = _("信息公开年度报告")
        verbose_name_plural = _("信息公开年度报告")

    def __str__(self) -> str:
        return f"{self.unit} {self.year}"


class DeliveryForm(models.TextChoices):
    """获取信息的方式."""

    ONLINE = "online", _("在线查看")
    EMAIL = "email", _("电子邮件")
    PAPER = "paper", _("纸质邮寄")
    COLLECT = "collect", _("当面领取")


class RequestStatus(models.TextChoices):
    REGISTER = "register", _("待登记受理")
    HANDLE = "handle", _("办理中")
    SUPPLEMENT = "supplement", _("待申请人补正")
    EXTENSION = "extension", _("延期审批中")
    REPLY = "reply", _("待答复")
    ANSWERED = "answered", _("已答复")


class Outcome(models.TextChoices):
    """答复类型 (《政府信息公开条例》第三十六条)."""

    ALREADY_PUBLIC = "already_public", _("已主动公开")
    PUBLIC = "public", _("予以公开")
    PARTIAL = "partial", _("部分公开")
    WITHHELD = "withheld", _("不予公开")
    NOT_EXIST = "not_exist", _("信息不存在")
    NOT_OURS = "not_ours", _("非本机关负责公开")
    NOT_HANDLED = "not_handled", _("不予处理")


# Outcomes whose reply makes information public (they may be published to the portal with one action).
PUBLIC_OUTCOMES = (Outcome.PUBLIC, Outcome.PARTIAL)


class WithheldReason(models.TextChoices):
    """不予公开的法定理由 (条例第十四、十五、十六条)."""

    STATE_SECRET = "state_secret", _("属于国家秘密")
    LAW_FORBIDS = "law_forbids", _("法律、行政法规禁止公开")
    SECURITY = "security", _("危及国家安全、公共安全、经济安全、社会稳定")
    THIRD_PARTY = "third_party", _("涉及商业秘密、个人隐私，公开会对第三方合法权益造成损害")
    INTERNAL = "internal", _("内部事务信息")
    PROCESS = "process", _("过程性信息")
    ENFORCEMENT = "enforcement", _("行政执法案卷信息")


class DisclosureRequest(models.Model):
    """依申请公开: a citizen's or enterprise's application to one unit, handled on the process engine."""

    number = models.CharField(_("申请编号"), max_length=48, unique=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="disclosure_requests", verbose_name=_("受理机关")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请账号")
    )
    # Personal data: SM4-encrypted at rest, masked in every list.
    applicant_name = EncryptedTextField(_("申请人姓名或名称"))
    id_number = EncryptedTextField(_("证件号码"))
    phone = EncryptedTextField(_("联系电话"))
    address = EncryptedTextField(_("通信地址"), blank=True, default="")
    email = EncryptedTextField(_("电子邮箱"), blank=True, default="")
    description = models.TextField(_("所需信息的名称或内容描述"), max_length=2000)
    purpose = models.CharField(_("用途"), max_length=500, blank=True)
    delivery_form = models.CharField(_("获取方式"), max_length=10, choices=DeliveryForm.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.REGISTER
    )
    submit_token = models.CharField(max_length=64, unique=True)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    instance_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(_("答复期限"), null=True, blank=True)
    extended = models.BooleanField(_("已延期"), default=False)
    extension_reason = models.CharField(_("延期理由"), max_length=500, blank=True)
    outcome = models.CharField(_("答复类型"), max_length=16, choices=Outcome.choices, blank=True)
    withheld_reason = models.CharField(
        _("不予公开理由"), max_length=16, choices=WithheldReason.choices, blank=True
    )
    reply_text = models.TextField(_("答复内容"), max_length=5000, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_item = models.ForeignKey(
        "portal.Item",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("公开到门户的信息"),
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "status", "-submitted_at"]),
            models.Index(fields=["applicant", "-submitted_at"]),
        ]
        verbose_name = _("依申请公开申请")
        verbose_name_plural = _("依申请公开申请")

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("disclosure:request_detail", args=[self.pk])

    @property
    def name_masked(self) -> str:
        return mask_name(self.applicant_name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_answered(self) -> bool:
        return self.status == RequestStatus.ANSWERED

    @property
    def may_publish(self) -> bool:
        return self.is_answered and self.outcome in PUBLIC_OUTCOMES and self.published_item_id is None


class Supplement(models.Model):
    """补正: the unit asks the applicant to make the request clearer; the case's clock stands still from
    the asking until the answer, and the stopped working days are kept."""

    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="supplements")
    question = models.CharField(_("需要补正的内容"), max_length=1000)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(_("告知时间"), default=timezone.now)
    answer = models.TextField(_("补正内容"), max_length=2000, blank=True)
    answered_at = models.DateTimeField(_("补正时间"), null=True, blank=True)
    clock_stop_id = models.BigIntegerField(null=True, blank=True)
    stopped_working_days = models.PositiveIntegerField(_("暂停工作日数"), null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(answered_at__isnull=True),
                name="disclosure_one_open_supplement",
            )
        ]
        verbose_name = _("补正")
        verbose_name_plural = _("补正")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.question[:20]}"
