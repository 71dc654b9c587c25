"""Units, people, roles and the trail (组织机构、人员、角色、全程留痕)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from zhengwu.core.fields import EncryptedTextField, blind_index
from zhengwu.lib.masking import mask_email, mask_phone


class RegionLevel(models.TextChoices):
    CITY = "city", _("市")
    COUNTY = "county", _("县区")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村")


LEVEL_DEPTH = {RegionLevel.CITY: 1, RegionLevel.COUNTY: 2, RegionLevel.TOWNSHIP: 3, RegionLevel.VILLAGE: 4}


class Region(models.Model):
    """行政区划: one node of the city → county/district → township → village tree."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of codes ("620800/620802/620802100/"): subtree queries are one prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = (self.parent.path if self.parent else "") + self.code + "/"
        super().save(*args, **kwargs)


class UnitKind(models.TextChoices):
    PARTY = "party", _("党委")
    CONGRESS = "congress", _("人大")
    GOVERNMENT = "government", _("政府")
    CPPCC = "cppcc", _("政协")
    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    DEPARTMENT = "department", _("部门")
    VERTICAL = "vertical", _("垂直部门")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村")


class Unit(models.Model):
    """单位: an organisation that works in the platform, in a region and under a parent unit."""

    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    short_name = models.CharField(_("简称"), max_length=32, blank=True)
    kind = models.CharField(_("类别"), max_length=16, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="units", verbose_name=_("所在区划")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级单位"),
    )
    path = models.CharField(max_length=512, db_index=True, editable=False)
    level = models.CharField(
        _("层级"), max_length=10, choices=RegionLevel.choices, editable=False, db_index=True
    )
    sort = models.PositiveIntegerField(_("排序"), default=0)
    phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # 双轨制: a unit still also receiving paper copies during the transition period.
    receives_paper = models.BooleanField(_("仍接收纸质文件"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        indexes = [models.Index(fields=["kind", "level"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = (self.parent.path if self.parent else "") + self.code + "/"
        self.level = self.region.level
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Department(models.Model):
    """科室: a section inside a unit."""

    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="departments", verbose_name=_("单位")
    )
    name = models.CharField(_("名称"), max_length=64)
    phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["unit_id", "sort", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="department_unique_name")]
        verbose_name = _("科室")
        verbose_name_plural = _("科室")

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """岗位: a position in a unit, held by one or more staff."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="posts", verbose_name=_("单位"))
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
        verbose_name=_("科室"),
    )
    name = models.CharField(_("岗位名称"), max_length=64)
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["unit_id", "sort", "id"]
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")

    def __str__(self) -> str:
        return f"{self.unit.display_name} · {self.name}"


class AccountKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    CITIZEN = "citizen", _("公众")
    ENTERPRISE = "enterprise", _("企业")


class PlatformRole(models.TextChoices):
    """三员分立: three separated platform administrators."""

    NONE = "", _("无")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全保密管理员")
    AUDIT_ADMIN = "audit_admin", _("安全审计员")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save()
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("platform_role", PlatformRole.SYSTEM_ADMIN)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_staff", True)
        return self.create_user(username, password, **extra)


def _new_salt() -> str:
    return secrets.token_hex(16)


class User(AbstractBaseUser, PermissionsMixin):
    """An account: staff (工作人员) or a public account of a citizen or an enterprise (公众/企业).

    Staff and public accounts share the sign-in machinery but never each other's pages: staff sign in at
    /accounts/login/, the public at /public/login/, and every staff page refuses a public account.
    """

    username = models.CharField(_("用户名"), max_length=64, unique=True)
    name = models.CharField(_("姓名"), max_length=64)
    kind = models.CharField(
        _("账号类别"), max_length=12, choices=AccountKind.choices, default=AccountKind.STAFF
    )
    platform_role = models.CharField(
        _("平台管理角色"), max_length=16, choices=PlatformRole.choices, default="", blank=True
    )
    mobile = EncryptedTextField(_("手机号"), blank=True, default="")
    mobile_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    email = EncryptedTextField(_("电子邮箱"), blank=True, default="")
    email_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    office_phone = models.CharField(_("办公电话"), max_length=32, blank=True)
    primary_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("主要单位")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可进入后台"), default=False)  # Django admin site only
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Part of the session hash: changing it signs the account out of every session (退出所有设备).
    session_salt = models.CharField(max_length=32, default=_new_salt, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")
        constraints = [
            # One public account per phone / e-mail; staff may share an office e-mail.
            models.UniqueConstraint(
                fields=["mobile_index"],
                condition=~Q(mobile_index="") & ~Q(kind="staff"),
                name="public_unique_mobile",
            ),
            models.UniqueConstraint(
                fields=["email_index"],
                condition=~Q(email_index="") & ~Q(kind="staff"),
                name="public_unique_email",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.mobile_index = blind_index(self.mobile or "")
        self.email_index = blind_index(self.email or "")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            fields = set(update_fields)
            if "mobile" in fields:
                fields.add("mobile_index")
            if "email" in fields:
                fields.add("email_index")
            kwargs["update_fields"] = fields
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        return salted_hmac(
            "zhengwu.core.User.session",
            f"{self.password}:{self.session_salt}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def is_staff_account(self) -> bool:
        return self.kind == AccountKind.STAFF

    @property
    def is_public_account(self) -> bool:
        return self.kind != AccountKind.STAFF

    @property
    def mobile_masked(self) -> str:
        return mask_phone(self.mobile) if self.mobile else ""

    @property
    def email_masked(self) -> str:
        return mask_email(self.email) if self.email else ""


class PostAssignment(models.Model):
    """A staff member holding a post; a person may hold posts in more than one unit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="post_assignments")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="assignments")
    is_primary = models.BooleanField(_("主岗"), default=True)
    since = models.DateField(_("任职日期"), default=timezone.localdate)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="assignment_unique")]
        verbose_name = _("任职")
        verbose_name_plural = _("任职")

    def __str__(self) -> str:
        return f"{self.user} @ {self.post}"


class UnitRoleKind(models.TextChoices):
    UNIT_ADMIN = "unit_admin", _("单位管理员")
    CLERK = "clerk", _("文书/收发员")
    HANDLER = "handler", _("承办人")
    REVIEWER = "reviewer", _("审核人")
    LEADER = "leader", _("领导")
    SUPERVISOR = "supervisor", _("监察员")


class UnitRole(models.Model):
    """A role a staff member holds in one unit (角色)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="unit_roles")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("角色"), max_length=16, choices=UnitRoleKind.choices)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="unit_role_unique")]
        indexes = [models.Index(fields=["unit", "role"])]
        verbose_name = _("单位角色")
        verbose_name_plural = _("单位角色")

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class UnitGroup(models.Model):
    """A group of units usable as recipients (all county governments, all townships of a county …).

    Members are the units matching the rule (kinds × level × region subtree) plus any listed explicitly,
    so a group follows the organisation as units are added.
    """

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kinds = models.JSONField(_("单位类别"), default=list, blank=True)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices, blank=True)
    within = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("区划范围")
    )
    match_all = models.BooleanField(_("全部单位"), default=False)
    extra_units = models.ManyToManyField(Unit, blank=True, related_name="+", verbose_name=_("另加单位"))
    owner = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="own_groups",
        verbose_name=_("所属单位"),
    )
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("单位分组")
        verbose_name_plural = _("单位分组")

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """全程留痕: one append-only record, SM3-chained to the one before it.

    Actor and unit are kept as plain ids plus a label snapshot (no database constraint), so nothing that
    happens to a user or a unit later can rewrite the trail.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=128, blank=True)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    unit_label = models.CharField(max_length=128, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["unit", "at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]
        verbose_name = _("留痕记录")
        verbose_name_plural = _("留痕记录")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit records are append-only")


class AuditHead(models.Model):
    """The chain's head (a single row): the last sequence number and digest; locked to append."""

    seq = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class AuditAnchor(models.Model):
    """Where the chain starts after retention removed older records: verification resumes here."""

    through_seq = models.BigIntegerField(unique=True)
    digest = models.CharField(max_length=64)
    purged_at = models.DateTimeField(default=timezone.now)
    purged_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"anchor ≤ #{self.through_seq}"
