"""Access to to-do items and cases: 404 for what is not yours, whatever id is guessed, over every URL."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.urls import reverse

from zhengwu.flow import selectors, services
from zhengwu.flow.models import ReadItem, Task, TaskStatus
from zhengwu.flow.tests.helpers import complete, only_open, open_tasks, start

pytestmark = pytest.mark.django_db


def test_it_gives_the_holder_their_task_and_everyone_else_a_404(
    processes: Any, people: Any, cast: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    assert selectors.task_get_for_user(people.starter, register.pk, act=True) == register
    for stranger in (cast.other_township_clerk, cast.county_reviewer, cast.outsider, cast.city_leader):
        with pytest.raises(Http404):
            selectors.task_get_for_user(stranger, register.pk)
        with pytest.raises(Http404):
            selectors.task_get_for_user(stranger, register.pk, act=True)
    # A colleague of the same unit may read it, never act on it.
    assert selectors.task_get_for_user(people.colleague, register.pk) == register
    with pytest.raises(Http404):
        selectors.task_get_for_user(people.colleague, register.pk, act=True)
    for nobody in (cast.citizen, cast.enterprise, cast.system_admin, cast.supervisor):
        with pytest.raises(Http404):
            selectors.task_get_for_user(nobody, register.pk, act=True)
    for junk in (None, "", "abc", "1.5", -1, 10**12):
        with pytest.raises(Http404):
            selectors.task_get_for_user(people.starter, junk)


def test_it_lets_role_holders_claim_and_then_only_the_claimant(
    processes: Any, people: Any, cast: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    review = only_open(instance, "review")
    # Both township A1 reviewers may claim; the county reviewer (same role, another unit) may not see it.
    assert selectors.task_get_for_user(people.reviewer, review.pk, act=True) == review
    assert selectors.task_get_for_user(people.reviewer2, review.pk, act=True) == review
    with pytest.raises(Http404):
        selectors.task_get_for_user(cast.county_reviewer, review.pk)
    assert review in selectors.todos_for(people.reviewer2)
    assert review not in selectors.todos_for(cast.county_reviewer)
    services.task_claim(actor=people.reviewer, task=review)
    with pytest.raises(Http404):
        selectors.task_get_for_user(people.reviewer2, review.pk, act=True)
    assert review not in selectors.todos_for(people.reviewer2)
    assert review in selectors.todos_for(people.reviewer)


def test_it_keeps_parallel_branches_in_their_own_units(processes: Any, people: Any, cast: Any) -> None:
    instance = start(
        cast.city_clerk,
        "sample_parallel_approval",
        cast.city_gov,
        units={
            "dept_1": cast.county_a_gov.pk,
            "dept_2": cast.county_b_gov.pk,
            "dept_3": cast.township_a1_gov.pk,
        },
    )
    complete(cast.city_clerk, only_open(instance, "accept"), {"materials": "complete"})
    county_b_task = only_open(instance, "review_2")
    assert selectors.task_get_for_user(cast.county_b_clerk, county_b_task.pk, act=True) == county_b_task
    for other in (cast.county_reviewer, people.reviewer, cast.city_clerk, cast.outsider):
        with pytest.raises(Http404):
            selectors.task_get_for_user(other, county_b_task.pk, act=True)
    # The departments may read the case they work on; a unit outside it may not.
    assert selectors.instance_get_for_user(cast.county_b_clerk, instance.pk) == instance
    with pytest.raises(Http404):
        selectors.instance_get_for_user(cast.outsider, instance.pk)
    with pytest.raises(Http404):
        selectors.instance_get_for_user(cast.other_township_clerk, instance.pk)


def test_it_answers_every_guessed_task_url_with_404_for_another_units_staff(
    processes: Any, people: Any, cast: Any, client_for: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    complete(people.starter, only_open(instance, "register"))
    review = only_open(instance, "review")
    client = client_for(cast.other_township_clerk)
    before = list(Task.objects.order_by("id").values_list("id", "status", "assignee_id"))
    ids = [t.pk for t in Task.objects.all()] + [review.pk + 1, review.pk + 100, 0]
    for task_id in ids:
        assert client.get(reverse("flow:task_detail", args=[task_id])).status_code == 404
        assert client.get(reverse("flow:task_deadline", args=[task_id])).status_code == 404
        for name in (
            "task_claim",
            "task_complete",
            "task_send_back",
            "task_transfer",
            "task_circulate",
            "task_urge",
        ):
            response = client.post(reverse(f"flow:{name}", args=[task_id]), {"opinion": "x", "note": "x"})
            assert response.status_code == 404, (name, task_id)
    assert client.get(reverse("flow:instance_detail", args=[instance.pk])).status_code == 404
    assert client.get(reverse("flow:instance_bpmn", args=[instance.pk])).status_code == 404
    assert (
        client.post(
            reverse("flow:instance_clock_stop", args=[instance.pk]), {"reason": "hearing"}
        ).status_code
        == 404
    )
    assert list(Task.objects.order_by("id").values_list("id", "status", "assignee_id")) == before


def test_it_refuses_public_accounts_and_sends_strangers_to_sign_in(
    processes: Any, people: Any, cast: Any, client_for: Any, client: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    url = reverse("flow:task_detail", args=[register.pk])
    assert client_for(cast.citizen).get(url).status_code == 403
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(cast.citizen).post(reverse("flow:task_complete", args=[register.pk])).status_code == 403


def test_it_shows_read_items_only_to_their_recipient(
    processes: Any, people: Any, cast: Any, client_for: Any
) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    (item,) = services.task_circulate(
        actor=people.starter, task=register, recipients=[people.leader], note="请阅"
    )
    assert (
        client_for(cast.other_township_clerk).get(reverse("flow:read_item", args=[item.pk])).status_code
        == 404
    )
    assert client_for(people.reviewer).get(reverse("flow:read_item", args=[item.pk])).status_code == 404
    assert ReadItem.objects.get(pk=item.pk).read_at is None
    response = client_for(people.leader).get(reverse("flow:read_item", args=[item.pk]))
    assert response.status_code == 302
    assert ReadItem.objects.get(pk=item.pk).read_at is not None


def test_it_refuses_circulating_outside_ones_own_unit(processes: Any, people: Any, cast: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    with pytest.raises(services.FlowError, match="本单位"):
        services.task_circulate(actor=people.starter, task=register, recipients=[cast.outsider])
    with pytest.raises(PermissionError):
        services.task_circulate(actor=people.reviewer, task=register, recipients=[people.leader])
    assert ReadItem.objects.count() == 0


def test_it_lets_only_case_readers_urge_and_never_the_holder(processes: Any, people: Any, cast: Any) -> None:
    instance = start(people.starter, "simple_approval", people.starter.primary_unit)
    register = only_open(instance, "register")
    with pytest.raises(Http404):
        services.task_urge(actor=cast.outsider, task=register)
    with pytest.raises(services.FlowError, match="自己"):
        services.task_urge(actor=people.starter, task=register)
    services.task_urge(actor=people.leader, task=register, note="今天请办完")
    with pytest.raises(services.FlowError, match="刚刚催办过"):
        services.task_urge(actor=people.leader, task=register)
    register.refresh_from_db()
    assert register.urge_count == 1 and register.status == TaskStatus.OPEN
    assert open_tasks(instance) == [register]
