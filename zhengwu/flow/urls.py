from django.urls import path

from zhengwu.flow import deadline_views, views

app_name = "flow"
urlpatterns = [
    path("", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/send-back/", views.task_send_back, name="task_send_back"),
    path("tasks/<int:task_id>/transfer/", views.task_transfer, name="task_transfer"),
    path("tasks/<int:task_id>/circulate/", views.task_circulate, name="task_circulate"),
    path("tasks/<int:task_id>/urge/", views.task_urge, name="task_urge"),
    path("tasks/<int:task_id>/clock-stop/", views.task_clock_stop, name="task_clock_stop"),
    path("tasks/<int:task_id>/deadline/", views.task_deadline, name="task_deadline"),
    path("deadlines/", deadline_views.carded_list, name="deadlines"),
    path("clock-stops/<int:stop_id>/end/", views.clock_stop_end, name="clock_stop_end"),
    path("instances/", views.instance_list, name="instances"),
    path("instances/<int:instance_id>/", views.instance_detail, name="instance_detail"),
    path("instances/<int:instance_id>/bpmn.xml", views.instance_bpmn, name="instance_bpmn"),
    path("instances/<int:instance_id>/clock-stop/", views.instance_clock_stop, name="instance_clock_stop"),
    path("read/<int:item_id>/", views.read_item_open, name="read_item"),
    path("definitions/", views.definition_list, name="definitions"),
    path("definitions/upload/", views.definition_upload, name="definition_upload"),
    path("definitions/<int:definition_id>/", views.definition_detail, name="definition_detail"),
    path("definitions/<int:definition_id>/bpmn.xml", views.definition_bpmn, name="definition_bpmn"),
    path("delegations/", views.delegations, name="delegations"),
    path("delegations/<int:delegation_id>/cancel/", views.delegation_cancel, name="delegation_cancel"),
    path("sample/", views.sample_cases, name="sample_cases"),
]
