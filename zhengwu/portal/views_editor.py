"""The editors' pages (网站内容管理): draft, review, publish, withdraw, push; columns; sensitive words.

Views parse, check access (zhengwu.portal.access: 404 for what is not the user's), call one service and
render. A refused action re-renders the page with the reason and a 4xx status; nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhengwu.core.access import staff_required
from zhengwu.portal import access, selectors, services
from zhengwu.portal.forms import (
    ColumnForm,
    ItemForm,
    PlacementRejectForm,
    PushForm,
    ReturnForm,
    ReviewForm,
    ScoringMonthForm,
    ScoringRuleForm,
    SiteForm,
    WithdrawForm,
    WordForm,
)
from zhengwu.portal.models import (
    Item,
    ItemKind,
    ItemState,
    ScoringRule,
    SensitiveWord,
    SiteKind,
    SiteScore,
    WordLevel,
)


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _apply_errors(form: BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@staff_required
def cms_home(request: HttpRequest) -> HttpResponse:
    """The editor's desk: my sites, what waits for my review, pushes waiting for the main site."""
    user = request.user
    sites = access.sites_for(user)
    return render(
        request,
        "portal/editor/home.html",
        {
            "sites": sites,
            "queue": selectors.review_queue(user),
            "placements": access.pending_placements_for(user),
            "mine": selectors.my_items(user)[:20],
            "can_open_sites": access.can_open_sites(user),
            "can_manage_words": access.can_manage_words(user),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def site_new(request: HttpRequest) -> HttpResponse:
    if not access.can_open_sites(request.user):
        raise Http404(_("页面不存在"))
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("网站已开设：%(n)s") % {"n": site.name})
            return redirect("portal:cms_site", site.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/editor/site_form.html", {"form": form}, status=status)


@staff_required
def site_detail(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_for_user(request.user, site_id)
    state = request.GET.get("state", "")
    query = request.GET.get("q", "").strip()[:64]
    try:
        column_id = int(request.GET.get("column") or 0) or None
    except ValueError:
        column_id = None
    items = selectors.site_items(site, state=state, column_id=column_id, query=query)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/editor/site.html",
        {
            "site": site,
            "columns": selectors.column_tree(site),
            "page": page,
            "state": state,
            "q": query,
            "column_id": column_id,
            "states": ItemState.choices,
            "can_edit": access.can_edit(request.user, site),
            "can_manage_columns": access.can_manage_columns(request.user, site),
        },
    )


@staff_required
def site_stats(request: HttpRequest, site_id: int) -> HttpResponse:
    """访问统计与栏目更新: views counted by the platform, and how often each column is updated."""
    site = access.site_get_for_user(request.user, site_id)
    try:
        days = min(max(int(request.GET.get("days") or 30), 1), 366)
    except ValueError:
        days = 30
    return render(
        request, "portal/editor/stats.html", {"site": site, **selectors.site_stats(site, days=days)}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def column_new(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_for_user(request.user, site_id)
    if not access.can_manage_columns(request.user, site):
        raise Http404(_("页面不存在"))
    form = ColumnForm(request.POST or None, site=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.column_create(actor=request.user, site=site, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("栏目已建立"))
            return redirect("portal:cms_site", site.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/editor/column_form.html", {"form": form, "site": site}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def item_new(request: HttpRequest, site_id: int) -> HttpResponse:
    site = access.site_get_for_user(request.user, site_id)
    if not access.can_edit(request.user, site):
        raise Http404(_("页面不存在"))
    initial = {"kind": request.GET.get("kind") or ItemKind.ARTICLE, "column": request.GET.get("column")}
    form = ItemForm(request.POST or None, site=site, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_create(actor=request.user, site=site, values=form.values())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存为草稿"))
            return redirect("portal:cms_item", item.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/editor/item_form.html", {"form": form, "site": site}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    if not access.can_edit(request.user, item.site):
        raise Http404(_("页面不存在"))
    form = ItemForm(request.POST or None, site=item.site, instance=Item.objects.get(pk=item.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(actor=request.user, item=item, values=form.values())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("修改已保存"))
            return redirect("portal:cms_item", item.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/editor/item_form.html",
        {"form": form, "site": item.site, "item": item},
        status=status,
    )


def _detail(request: HttpRequest, item: Item, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    site = item.site
    versions = list(item.versions.select_related("created_by").order_by("-number"))
    context = {
        "item": item,
        "site": site,
        "versions": versions,
        "placements": list(item.placements.select_related("column", "site", "requested_by", "reviewed_by")),
        "trail": selectors.item_trail(item),
        "can_edit": access.can_edit(user, site)
        and item.state not in (ItemState.PENDING, ItemState.PENDING_SECOND),
        "can_submit": access.can_edit(user, site) and item.state == ItemState.DRAFT,
        "can_review": (item.state == ItemState.PENDING and access.can_review(user, site))
        or (item.state == ItemState.PENDING_SECOND and access.can_second_review(user, site)),
        "can_withdraw": item.is_live and (access.can_edit(user, site) or access.can_review(user, site)),
        "can_push": item.is_live and site.kind != SiteKind.MAIN and access.can_edit(user, site),
        "review_form": forms.get("review_form") or ReviewForm(),
        "return_form": forms.get("return_form") or ReturnForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "push_form": forms.get("push_form") or PushForm(),
        "errors": forms.get("errors") or [],
    }
    return render(request, "portal/editor/item.html", context, status=status)


@staff_required
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    return _detail(request, access.item_get_for_user(request.user, item_id))


def _act(request: HttpRequest, item: Item, call: Any, success: str, **forms: Any) -> HttpResponse:
    try:
        call()
    except ValidationError as exc:
        item.refresh_from_db()
        return _detail(request, item, status=400, errors=_messages_of(exc), **forms)
    messages.success(request, success)
    return redirect("portal:cms_item", item.pk)


@staff_required
@require_POST
def item_submit(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    return _act(
        request,
        item,
        lambda: services.item_submit(actor=request.user, item=item),
        _("已提交审核"),
    )


@staff_required
@require_POST
def item_approve(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, status=400, review_form=form)
    return _act(
        request,
        item,
        lambda: services.item_approve(actor=request.user, item=item, note=form.cleaned_data["note"]),
        _("审核通过"),
        review_form=form,
    )


@staff_required
@require_POST
def item_return(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, status=400, return_form=form, errors=[_("退回时请写明修改意见")])
    return _act(
        request,
        item,
        lambda: services.item_return(actor=request.user, item=item, note=form.cleaned_data["note"]),
        _("已退回修改"),
        return_form=form,
    )


@staff_required
@require_POST
def item_withdraw(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, status=400, withdraw_form=form, errors=[_("撤稿须选择原因并写明说明")])
    return _act(
        request,
        item,
        lambda: services.item_withdraw(
            actor=request.user, item=item, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"]
        ),
        _("已撤稿，相关页面和检索结果已同步撤下"),
        withdraw_form=form,
    )


@staff_required
@require_POST
def item_push(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id, edit=True)
    form = PushForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, status=400, push_form=form, errors=[_("请选择主站接受报送的栏目")])
    return _act(
        request,
        item,
        lambda: services.item_push(actor=request.user, item=item, column=form.cleaned_data["column"]),
        _("已报送到主站，等待主站审核"),
        push_form=form,
    )


@staff_required
def item_compare(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access.item_get_for_user(request.user, item_id)
    versions = {v.number: v for v in item.versions.all()}
    try:
        a = int(request.GET.get("a", ""))
        b = int(request.GET.get("b", ""))
    except ValueError:
        a = b = 0
    if a not in versions or b not in versions:
        numbers = sorted(versions)
        if len(numbers) < 2:
            messages.info(request, _("只有一个版本，无可比较"))
            return redirect("portal:cms_item", item.pk)
        a, b = numbers[-2], numbers[-1]
    old, new = versions[min(a, b)], versions[max(a, b)]
    return render(
        request,
        "portal/editor/compare.html",
        {
            "item": item,
            "old": old,
            "new": new,
            "diffs": selectors.version_diff(old, new),
            "numbers": sorted(versions),
        },
    )


@staff_required
@require_POST
def placement_approve(request: HttpRequest, placement_id: int) -> HttpResponse:
    placement = access.placement_get_for_review(request.user, placement_id)
    try:
        services.placement_approve(actor=request.user, placement=placement)
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return _queue_page(request, status=400)
    messages.success(request, _("已采用，主站栏目已更新"))
    return redirect("portal:cms_home")


@staff_required
@require_POST
def placement_reject(request: HttpRequest, placement_id: int) -> HttpResponse:
    placement = access.placement_get_for_review(request.user, placement_id)
    form = PlacementRejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请写明不采用的理由"))
        return _queue_page(request, status=400)
    try:
        services.placement_reject(actor=request.user, placement=placement, note=form.cleaned_data["note"])
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return _queue_page(request, status=400)
    messages.success(request, _("已退回报送"))
    return redirect("portal:cms_home")


def _queue_page(request: HttpRequest, *, status: int) -> HttpResponse:
    response = cms_home(request)
    response.status_code = status
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def words(request: HttpRequest) -> HttpResponse:
    """敏感词库: add, switch between block and flag, remove."""
    if not access.can_manage_words(request.user):
        raise Http404(_("页面不存在"))
    form = WordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sensitive_word_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已加入词库"))
            return redirect("portal:cms_words")
    return _words_page(request, form, status=400 if request.method == "POST" else 200)


def _words_page(request: HttpRequest, form: WordForm, *, status: int) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    qs = SensitiveWord.objects.all()
    if query:
        qs = qs.filter(word__icontains=query)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/editor/words.html",
        {"form": form, "page": page, "q": query, "levels": WordLevel.choices},
        status=status,
    )


def _word(request: HttpRequest, word_id: int) -> SensitiveWord:
    if not access.can_manage_words(request.user):
        raise Http404(_("页面不存在"))
    word = SensitiveWord.objects.filter(pk=word_id).first()
    if word is None:
        raise Http404(_("词条不存在"))
    return word


@staff_required
@require_POST
def word_update(request: HttpRequest, word_id: int) -> HttpResponse:
    word = _word(request, word_id)
    level = request.POST.get("level", word.level)
    try:
        services.sensitive_word_update(
            actor=request.user, word=word, level=level, is_active=request.POST.get("is_active") == "1"
        )
    except ValidationError as exc:
        for m in _messages_of(exc):
            messages.error(request, m)
        return _words_page(request, WordForm(), status=400)
    messages.success(request, _("已更新"))
    return redirect("portal:cms_words")


@staff_required
@require_POST
def word_remove(request: HttpRequest, word_id: int) -> HttpResponse:
    word = _word(request, word_id)
    services.sensitive_word_remove(actor=request.user, word=word)
    messages.success(request, _("已从词库删除"))
    return redirect("portal:cms_words")


@staff_required
@require_http_methods(["GET", "POST"])
def scoring(request: HttpRequest) -> HttpResponse:
    """网站量化打分: the published rules (editable) and the monthly scoring run."""
    if not access.can_manage_scoring(request.user):
        raise Http404(_("页面不存在"))
    errors: list[str] = []
    month_form = ScoringMonthForm(request.POST if request.POST.get("action") == "compute" else None)
    if request.method == "POST":
        if request.POST.get("action") == "compute":
            if month_form.is_valid():
                try:
                    services.site_scores_compute(actor=request.user, month=month_form.cleaned_data["month"])
                except ValidationError as exc:
                    errors.extend(_messages_of(exc))
                else:
                    messages.success(request, _("已完成评分并发布排名"))
                    return redirect("portal:cms_scoring")
            else:
                errors.append(_("请选择要评分的月份"))
        else:
            rule = ScoringRule.objects.filter(pk=request.POST.get("rule") or 0).first()
            form = ScoringRuleForm(request.POST)
            if rule is None:
                errors.append(_("评分规则不存在"))
            elif not form.is_valid():
                errors.extend(str(e) for errs in form.errors.values() for e in errs)
            else:
                try:
                    services.scoring_rule_update(actor=request.user, rule=rule, **form.cleaned_data)
                except ValidationError as exc:
                    errors.extend(_messages_of(exc))
                else:
                    messages.success(request, _("评分规则已更新"))
                    return redirect("portal:cms_scoring")
    latest = SiteScore.objects.order_by("-month").values_list("month", flat=True).first()
    return render(
        request,
        "portal/editor/scoring.html",
        {
            "rules": ScoringRule.objects.all(),
            "month_form": month_form,
            "errors": errors,
            "month": latest,
            "scores": SiteScore.objects.filter(month=latest).select_related("site") if latest else [],
        },
        status=400 if errors else 200,
    )
