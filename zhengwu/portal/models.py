"""The portal site cluster (门户网站集群): sites, columns, items, versions, placements, sensitive words.

"集中建设、分散维护": the platform runs every site; each unit keeps its own site's columns and items.
An item's working copy (the fields on ``Item``) is what editors change; what the public sees is the
item's ``live_version`` — an immutable ``ItemVersion`` snapshot that passed publish review (信息上网发布
审核). Editing a published item therefore never changes the public page until the change is reviewed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import Unit

# Column slugs that would collide with the published tree's own files and folders.
RESERVED_SLUGS = {"art", "_assets", "index", "sitemap", "rss", "static", "search", "list", "ranking"}


class SiteKind(models.TextChoices):
    MAIN = "main", _("主站")
    DEPARTMENT = "department", _("部门子站")
    COUNTY = "county", _("县区门户")
    TOPIC = "topic", _("专题网站")
    AUDIENCE = "audience", _("受众频道")


class SiteTheme(models.TextChoices):
    RED = "red", _("党政红")
    BLUE = "blue", _("政务蓝")
    GREEN = "green", _("生态绿")
    GREY = "grey", _("庄重灰")


class Site(models.Model):
    """主站 / 子站: one site of the cluster, published under /site/<code>/ (or its own host name)."""

    code = models.SlugField(_("站点代码"), max_length=32, unique=True)
    name = models.CharField(_("站点名称"), max_length=64)
    kind = models.CharField(_("站点类型"), max_length=12, choices=SiteKind.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="sites", verbose_name=_("主办单位"))
    host = models.CharField(_("独立域名"), max_length=128, blank=True)
    theme = models.CharField(_("主题"), max_length=8, choices=SiteTheme.choices, default=SiteTheme.RED)
    description = models.CharField(_("简介"), max_length=200, blank=True)
    # 二审: the unit's leader approves after the reviewer, for sites whose unit asks for it.
    second_review = models.BooleanField(_("需要二级审核"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="main"), name="portal_one_main_site")
        ]
        verbose_name = _("网站")
        verbose_name_plural = _("网站")

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return f"/site/{self.code}/"


class Column(models.Model):
    """栏目: a section of a site, at most three levels deep, ordered by ``sort``."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="columns", verbose_name=_("网站"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级栏目"),
    )
    name = models.CharField(_("栏目名称"), max_length=64)
    slug = models.SlugField(_("栏目路径"), max_length=48)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)
    sort = models.PositiveIntegerField(_("排序"), default=0)
    show_on_home = models.BooleanField(_("在网站首页显示"), default=False)
    # Main-site columns that accept items pushed from sub-sites (报送到主站).
    accepts_pushes = models.BooleanField(_("接受子站报送"), default=False)
    description = models.CharField(_("栏目说明"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["site_id", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["site", "slug"], name="portal_column_unique_slug")]
        verbose_name = _("栏目")
        verbose_name_plural = _("栏目")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.depth = (self.parent.depth + 1) if self.parent_id and self.parent else 1
        super().save(*args, **kwargs)

    @property
    def url(self) -> str:
        return f"/site/{self.site.code}/{self.slug}/"


class ItemKind(models.TextChoices):
    ARTICLE = "article", _("文章")
    DOCUMENT = "document", _("政策文件")
    VIDEO = "video", _("视频")
    EPUBLICATION = "epublication", _("电子期刊")
    LINK = "link", _("外部链接")
    TOPIC = "topic", _("专题")
    SCENARIO = "scenario", _("场景式服务")


class Disclosure(models.TextChoices):
    """公开属性."""

    PROACTIVE = "proactive", _("主动公开")
    ON_REQUEST = "on_request", _("依申请公开")
    WITHHELD = "withheld", _("不予公开")


class Classification(models.TextChoices):
    """密级. Only non-classified material may enter the platform; 涉密 is refused on save and submit."""

    NONE = "none", _("非涉密")
    CLASSIFIED = "classified", _("涉密")


class Validity(models.TextChoices):
    VALID = "valid", _("有效")
    AMENDED = "amended", _("已修订")
    REPEALED = "repealed", _("已废止")
    EXPIRED = "expired", _("已失效")


class ItemState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审核")
    PENDING_SECOND = "pending_second", _("待二级审核")
    SCHEDULED = "scheduled", _("待定时发布")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已撤稿")


class WithdrawReason(models.TextChoices):
    """撤稿原因 (the three reasons GOV.UK records)."""

    ERROR = "error", _("发布有误")
    SUPERSEDED = "superseded", _("已被替代")
    WITHDRAWN = "withdrawn", _("不再适用")


class Item(models.Model):
    """信息: one piece of content on a site (an article, a policy document, a video …).

    The fields are the editors' working copy; ``live_version`` is what the public sees.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="items", verbose_name=_("网站"))
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="items", verbose_name=_("栏目"))
    kind = models.CharField(_("信息类型"), max_length=16, choices=ItemKind.choices, default=ItemKind.ARTICLE)
    title = models.CharField(_("标题"), max_length=200)
    subtitle = models.CharField(_("副标题"), max_length=200, blank=True)
    summary = models.TextField(_("摘要"), max_length=500, blank=True)
    body = models.TextField(_("正文"), blank=True)
    source = models.CharField(_("来源"), max_length=64, blank=True)
    author = models.CharField(_("作者"), max_length=64, blank=True)
    display_date = models.DateField(_("发布日期"), null=True, blank=True)
    # 政策文件
    document_number = models.CharField(_("文号"), max_length=64, blank=True)
    issuing_unit = models.CharField(_("发文机关"), max_length=128, blank=True)
    issued_on = models.DateField(_("成文日期"), null=True, blank=True)
    validity = models.CharField(_("有效性"), max_length=10, choices=Validity.choices, blank=True)
    # 视频 / 电子期刊 / 外部链接 / 专题
    media_url = models.CharField(_("视频或期刊文件地址"), max_length=500, blank=True)
    issue_label = models.CharField(_("期号"), max_length=32, blank=True)
    link_url = models.URLField(_("链接地址"), max_length=500, blank=True)
    # 场景式服务: one service per line, "名称|地址".
    services = models.TextField(_("关联办事事项"), blank=True)
    disclosure = models.CharField(
        _("公开属性"), max_length=12, choices=Disclosure.choices, default=Disclosure.PROACTIVE
    )
    disclosure_reason = models.CharField(_("不公开的法定理由"), max_length=200, blank=True)
    classification = models.CharField(
        _("密级"), max_length=12, choices=Classification.choices, default=Classification.NONE
    )
    publish_at = models.DateTimeField(_("定时发布时间"), null=True, blank=True)

    state = models.CharField(_("状态"), max_length=16, choices=ItemState.choices, default=ItemState.DRAFT)
    version = models.PositiveIntegerField(default=0, editable=False)
    submitted_version = models.ForeignKey(
        "ItemVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    live_version = models.ForeignKey(
        "ItemVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    flagged_words = models.JSONField(_("提示敏感词"), default=list, blank=True)
    first_published_at = models.DateTimeField(_("首次发布时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤稿时间"), null=True, blank=True)
    withdraw_reason = models.CharField(
        _("撤稿原因"), max_length=12, choices=WithdrawReason.choices, blank=True
    )
    withdraw_note = models.CharField(_("撤稿说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["site", "state", "-updated_at"]),
            models.Index(fields=["state", "publish_at"]),
        ]
        verbose_name = _("信息")
        verbose_name_plural = _("信息")

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.live_version_id is not None

    @property
    def public_url(self) -> str:
        return f"/site/{self.site.code}/art/{self.pk}.html"


class ItemVersion(models.Model):
    """版本: an immutable snapshot of an item's working copy, kept so any two can be compared."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    data = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="portal_version_unique")]
        verbose_name = _("信息版本")
        verbose_name_plural = _("信息版本")

    def __str__(self) -> str:
        return f"{self.item_id} v{self.number}"


class PlacementKind(models.TextChoices):
    HOME = "home", _("本站栏目")
    PUSHED = "pushed", _("报送主站")


class PlacementState(models.TextChoices):
    PENDING = "pending", _("待主站审核")
    LISTED = "listed", _("已上栏目")
    REJECTED = "rejected", _("未采用")
    REMOVED = "removed", _("已撤下")


class Placement(models.Model):
    """An item listed in a column: its own column, or a main-site column it was pushed to (报送到主站).

    A pushed item is shown on the main site through its placement — the item itself is not copied.
    Column pages list placements in ``listed_at`` order, which never changes once listed, so a column's
    older list pages stay valid as new items arrive (see docs/decisions/0006).
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="placements")
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="placements")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="placements")
    kind = models.CharField(max_length=8, choices=PlacementKind.choices)
    state = models.CharField(max_length=10, choices=PlacementState.choices)
    listed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [models.UniqueConstraint(fields=["item", "column"], name="portal_placement_unique")]
        indexes = [
            models.Index(fields=["column", "state", "listed_at", "id"]),
            models.Index(fields=["site", "state", "listed_at"]),
        ]
        verbose_name = _("栏目信息")
        verbose_name_plural = _("栏目信息")

    def __str__(self) -> str:
        return f"{self.item_id} @ {self.column_id}"


class WordLevel(models.TextChoices):
    BLOCK = "block", _("禁止发布")
    FLAG = "flag", _("提示审核")


class SensitiveWord(models.Model):
    """敏感词: checked on submit; ``block`` refuses the item, ``flag`` marks it for the reviewer."""

    word = models.CharField(_("敏感词"), max_length=64, unique=True)
    level = models.CharField(_("处理方式"), max_length=8, choices=WordLevel.choices, default=WordLevel.BLOCK)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")

    def __str__(self) -> str:
        return self.word


class SearchEntry(models.Model):
    """One live item in the search index: what filters and result lists read.

    The full-text rows (FTS5 on SQLite, a tsvector table on PostgreSQL) are keyed by
    ``item_id * 1000 + part`` and are created from ``version`` — an immutable snapshot — so the exact
    tokens indexed can always be derived again (the SQLite table is contentless).
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="search_entry")
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500)
    date = models.DateField(db_index=True)
    published_at = models.DateTimeField()
    parts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["site", "date"]), models.Index(fields=["kind", "date"])]

    def __str__(self) -> str:
        return self.title


class SearchScope(models.Model):
    """Where a live item is shown (its own column and every main-site column it is listed in)."""

    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="scopes")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    column = models.ForeignKey(Column, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "column"], name="portal_scope_unique")]
        indexes = [models.Index(fields=["site", "entry"]), models.Index(fields=["column", "entry"])]

    def __str__(self) -> str:
        return f"{self.entry_id} @ {self.column_id}"


class PageViewDay(models.Model):
    """访问量: page views of one published page on one day, counted by the platform itself.

    ``key`` names the page: "home", "c<column id>" or "i<item id>". Nothing about the reader is kept.
    """

    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=24)
    column = models.ForeignKey(Column, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    views = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "site", "key"], name="portal_pageview_unique")]
        indexes = [models.Index(fields=["site", "day"], name="portal_pageview_site_day")]
        verbose_name = _("访问量")
        verbose_name_plural = _("访问量")

    def __str__(self) -> str:
        return f"{self.day} {self.site_id} {self.key}: {self.views}"


class ScoringRule(models.Model):
    """网站量化打分规则: one published, editable rule of the monthly site scoring."""

    code = models.SlugField(_("规则代码"), max_length=32, unique=True)
    name = models.CharField(_("规则名称"), max_length=64)
    description = models.CharField(_("评分办法"), max_length=300)
    weight = models.PositiveSmallIntegerField(_("分值"))
    # Rule parameters: {"days": 30} for timeliness, {"per_link": 2} for broken links.
    params = models.JSONField(_("参数"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("评分规则")
        verbose_name_plural = _("评分规则")

    def __str__(self) -> str:
        return self.name


class SiteScore(models.Model):
    """One site's score for one month (政务网站量化打分), with each rule's points and its rank."""

    month = models.DateField(_("月份"))  # the first day of the month
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scores")
    score = models.DecimalField(_("得分"), max_digits=6, decimal_places=1)
    rank = models.PositiveSmallIntegerField(_("排名"))
    details = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["month", "rank"]
        constraints = [models.UniqueConstraint(fields=["month", "site"], name="portal_score_unique")]
        verbose_name = _("网站得分")
        verbose_name_plural = _("网站得分")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.site_id}: {self.score}"
