from django.urls import path

from zhengwu.portal import views, views_editor, views_public

app_name = "portal"
urlpatterns = [path("", views.home, name="home")]

# The site cluster: the published tree, search, and the editors' pages (网站内容管理).
urlpatterns += [
    path("site/", views_public.published, name="published_root"),
    path("site/<path:path>", views_public.published, name="published"),
    path("search/", views_public.search, name="search"),
    path("site-views/", views_public.page_view, name="page_view"),
    path("cms/sites/<int:site_id>/stats/", views_editor.site_stats, name="cms_site_stats"),
    path("cms/", views_editor.cms_home, name="cms_home"),
    path("cms/sites/new/", views_editor.site_new, name="cms_site_new"),
    path("cms/sites/<int:site_id>/", views_editor.site_detail, name="cms_site"),
    path("cms/sites/<int:site_id>/columns/new/", views_editor.column_new, name="cms_column_new"),
    path("cms/sites/<int:site_id>/items/new/", views_editor.item_new, name="cms_item_new"),
    path("cms/items/<int:item_id>/", views_editor.item_detail, name="cms_item"),
    path("cms/items/<int:item_id>/edit/", views_editor.item_edit, name="cms_item_edit"),
    path("cms/items/<int:item_id>/submit/", views_editor.item_submit, name="cms_item_submit"),
    path("cms/items/<int:item_id>/approve/", views_editor.item_approve, name="cms_item_approve"),
    path("cms/items/<int:item_id>/return/", views_editor.item_return, name="cms_item_return"),
    path("cms/items/<int:item_id>/withdraw/", views_editor.item_withdraw, name="cms_item_withdraw"),
    path("cms/items/<int:item_id>/push/", views_editor.item_push, name="cms_item_push"),
    path("cms/items/<int:item_id>/compare/", views_editor.item_compare, name="cms_item_compare"),
    path(
        "cms/placements/<int:placement_id>/approve/",
        views_editor.placement_approve,
        name="cms_placement_approve",
    ),
    path(
        "cms/placements/<int:placement_id>/reject/",
        views_editor.placement_reject,
        name="cms_placement_reject",
    ),
    path("cms/scoring/", views_editor.scoring, name="cms_scoring"),
    path("cms/words/", views_editor.words, name="cms_words"),
    path("cms/words/<int:word_id>/", views_editor.word_update, name="cms_word_update"),
    path("cms/words/<int:word_id>/remove/", views_editor.word_remove, name="cms_word_remove"),
]
