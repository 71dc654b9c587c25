"""Background work of the process engine, on whichever Huey the settings give (SqliteHuey or RedisHuey).

The deadline sweep (预警) runs every minute by default (``ZHENGWU_DEADLINE_SWEEP_MINUTES``, a crontab
minute field such as ``*/5``). It also refreshes the BPMN timer events that are due, which SpiffWorkflow
fires only when refreshed. Two workers running it at once do no harm: every row it moves is moved under a
row lock (PostgreSQL, skipping rows another sweep holds) or the single SQLite writer, and only from the
state it was read in, so each change, event and notice happens once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from zhengwu.flow import deadlines

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute=settings.FLOW_DEADLINE_SWEEP_MINUTES))
def deadline_sweep_task() -> dict[str, Any]:
    """The periodic sweep: deadline states, notices, behaviour on breach, BPMN timers."""
    return deadlines.deadline_sweep().as_dict()


@db_task()
def deadline_sweep_now() -> dict[str, Any]:
    """Run a sweep at once (after a bulk import, or when an operator asks for it)."""
    return deadlines.deadline_sweep().as_dict()
