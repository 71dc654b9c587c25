"""Template helpers of the deadline watch."""

from __future__ import annotations

from typing import Any

from django import template

from zhengwu.flow import deadlines

register = template.Library()


@register.filter
def may_watch_deadlines(user: Any) -> bool:
    """Whether the user reads the carded list (supervisors and leaders): shows its link in the menu."""
    return deadlines.may_watch(user)
