"""Forms for the editors' pages. They parse and check input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengwu.core.models import Unit
from zhengwu.portal.models import (
    Classification,
    Column,
    Item,
    Site,
    SiteKind,
    SiteTheme,
    WithdrawReason,
    WordLevel,
)
from zhengwu.portal.selectors import column_tree

ITEM_FIELDS = [
    "kind",
    "column",
    "title",
    "subtitle",
    "summary",
    "body",
    "source",
    "author",
    "display_date",
    "document_number",
    "issuing_unit",
    "issued_on",
    "validity",
    "media_url",
    "issue_label",
    "link_url",
    "services",
    "disclosure",
    "disclosure_reason",
    "classification",
    "publish_at",
]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ColumnChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "　" * (obj.depth - 1) + obj.name


class ItemForm(forms.ModelForm):
    column = ColumnChoiceField(queryset=Column.objects.none(), label=_("栏目"))
    link_url = forms.URLField(label=_("链接地址"), max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Item
        fields = ITEM_FIELDS
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "body": forms.Textarea(attrs={"rows": 16}),
            "services": forms.Textarea(attrs={"rows": 4, "placeholder": "不动产登记|https://…"}),
            "display_date": DateInput(),
            "issued_on": DateInput(),
            "publish_at": DateTimeInput(),
        }
        help_texts = {
            "body": _("可直接粘贴文字（按行分段），也可使用简单的 HTML；脚本和不安全的标签会被去除。"),
            "classification": _("本平台只处理非涉密信息，涉密信息一律不得录入。"),
            "publish_at": _("留空则审核通过后立即发布。"),
            "services": _("场景式服务：每行一个事项，格式为“名称|地址”。"),
            "disclosure_reason": _("依申请公开或不予公开时必填，如《政府信息公开条例》第十四条。"),
        }

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        field = self.fields["column"]
        assert isinstance(field, forms.ModelChoiceField)
        tree = [c for c in column_tree(site) if c.is_active]
        field.queryset = Column.objects.filter(pk__in=[c.pk for c in tree])
        field.choices = [("", "---------"), *[(c.pk, "　" * (c.depth - 1) + c.name) for c in tree]]
        publish_at = self.fields["publish_at"]
        assert isinstance(publish_at, forms.DateTimeField)
        publish_at.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def clean_classification(self) -> str:
        value = self.cleaned_data.get("classification", "")
        if value == Classification.CLASSIFIED:
            raise forms.ValidationError(
                _("涉密信息严禁在本平台处理和发布，已拒绝保存。请按保密规定通过涉密渠道处理。")
            )
        return value

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ITEM_FIELDS}


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("审核意见"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("退回意见"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(forms.Form):
    reason = forms.ChoiceField(label=_("撤稿原因"), choices=WithdrawReason.choices)
    note = forms.CharField(label=_("撤稿说明"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class PushForm(forms.Form):
    column = forms.ModelChoiceField(label=_("主站栏目"), queryset=Column.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["column"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Column.objects.filter(
            site__kind=SiteKind.MAIN, accepts_pushes=True, is_active=True
        ).order_by("sort", "id")


class PlacementRejectForm(forms.Form):
    note = forms.CharField(label=_("不采用的理由"), max_length=500)


class SiteForm(forms.Form):
    code = forms.SlugField(label=_("站点代码（网址路径）"), max_length=32)
    name = forms.CharField(label=_("站点名称"), max_length=64)
    kind = forms.ChoiceField(label=_("站点类型"), choices=SiteKind.choices)
    unit = forms.ModelChoiceField(label=_("主办单位"), queryset=Unit.objects.filter(is_active=True))
    theme = forms.ChoiceField(label=_("主题"), choices=SiteTheme.choices)
    host = forms.CharField(label=_("独立域名"), max_length=128, required=False)
    description = forms.CharField(label=_("简介"), max_length=200, required=False)
    second_review = forms.BooleanField(label=_("需要二级审核"), required=False)


class ColumnForm(forms.Form):
    name = forms.CharField(label=_("栏目名称"), max_length=64)
    slug = forms.SlugField(label=_("栏目路径（字母、数字、连字符）"), max_length=48)
    parent = ColumnChoiceField(label=_("上级栏目"), queryset=Column.objects.none(), required=False)
    sort = forms.IntegerField(label=_("排序"), min_value=0, initial=0)
    show_on_home = forms.BooleanField(label=_("在网站首页显示"), required=False)
    accepts_pushes = forms.BooleanField(label=_("接受子站报送（仅主站）"), required=False)
    description = forms.CharField(label=_("栏目说明"), max_length=200, required=False)

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Column.objects.filter(site=site, depth__lt=3)


class WordForm(forms.Form):
    word = forms.CharField(label=_("敏感词"), max_length=64)
    level = forms.ChoiceField(label=_("处理方式"), choices=WordLevel.choices)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class ScoringRuleForm(forms.Form):
    weight = forms.IntegerField(label=_("分值"), min_value=0, max_value=100)
    description = forms.CharField(label=_("评分办法"), max_length=300)
    params = forms.JSONField(label=_("参数"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)

    def clean_params(self) -> dict[str, Any]:
        value = self.cleaned_data.get("params") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("参数应写成 {“名称”: 数值} 的形式"))
        return value


class ScoringMonthForm(forms.Form):
    month = forms.DateField(
        label=_("月份"), input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"})
    )
