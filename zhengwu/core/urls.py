from django.urls import path

from zhengwu.core import views

app_name = "core"
urlpatterns = [
    # 通讯录
    path("address-book/", views.address_book, name="address_book"),
    path("address-book/units/<int:unit_id>/", views.address_book_unit, name="address_book_unit"),
    # A unit's workspace and its own admins' management pages
    path("units/<int:unit_id>/", views.unit_detail, name="unit_detail"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:unit_id>/departments/new/", views.department_create, name="department_create"),
    path(
        "units/<int:unit_id>/departments/<int:department_id>/edit/",
        views.department_edit,
        name="department_edit",
    ),
    path("units/<int:unit_id>/posts/new/", views.post_create, name="post_create"),
    path("units/<int:unit_id>/posts/assign/", views.post_assign, name="post_assign"),
    path("units/<int:unit_id>/posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path(
        "units/<int:unit_id>/posts/<int:post_id>/unassign/<int:user_id>/",
        views.post_unassign,
        name="post_unassign",
    ),
    path("units/<int:unit_id>/staff/new/", views.staff_create, name="staff_create"),
    path("units/<int:unit_id>/staff/<int:user_id>/", views.staff_detail, name="staff_detail"),
    path("units/<int:unit_id>/staff/<int:user_id>/edit/", views.staff_edit, name="staff_edit"),
    path("units/<int:unit_id>/staff/<int:user_id>/password/", views.staff_password, name="staff_password"),
    path("units/<int:unit_id>/staff/<int:user_id>/roles/", views.staff_roles, name="staff_roles"),
    path("units/<int:unit_id>/staff/<int:user_id>/active/", views.staff_active, name="staff_active"),
    # Platform administration (三员分立: system admin / security admin)
    path("platform/", views.platform_home, name="platform_home"),
    path("platform/units/", views.platform_units, name="platform_units"),
    path("platform/units/new/", views.platform_unit_create, name="platform_unit_create"),
    path("platform/units/<int:unit_id>/active/", views.platform_unit_active, name="platform_unit_active"),
    path("platform/groups/", views.platform_groups, name="platform_groups"),
    path("platform/groups/new/", views.platform_group_create, name="platform_group_create"),
    path("platform/groups/<int:group_id>/edit/", views.platform_group_edit, name="platform_group_edit"),
    path("platform/groups/<int:group_id>/delete/", views.platform_group_delete, name="platform_group_delete"),
    path("platform/accounts/", views.platform_accounts, name="platform_accounts"),
    path("platform/accounts/<int:account_id>/", views.platform_account, name="platform_account"),
    path(
        "platform/accounts/<int:account_id>/platform-role/",
        views.platform_account_role,
        name="platform_account_role",
    ),
    path(
        "platform/accounts/<int:account_id>/unit-roles/",
        views.platform_account_unit_role,
        name="platform_account_unit_role",
    ),
    path(
        "platform/accounts/<int:account_id>/active/",
        views.platform_account_active,
        name="platform_account_active",
    ),
    path(
        "platform/accounts/<int:account_id>/password/",
        views.platform_account_password,
        name="platform_account_password",
    ),
    # 全程留痕: the audit admin and supervisors
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.xlsx", views.audit_export, name="audit_export"),
    path("audit/<int:event_id>/", views.audit_detail, name="audit_detail"),
]
