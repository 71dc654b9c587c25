"""Background work for notifications, on whichever Huey the settings give (SqliteHuey or RedisHuey).

Loaded by `manage.py run_huey` (it imports every app's `tasks` module). The queue message carries only
the delivery id; all state is in the database, so a lost or duplicated message changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import close_old_connections
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from zhengwu.notify import services

logger = logging.getLogger(__name__)


# The tasks return nothing: Huey would otherwise keep every return value in its result store (the queue
# database), one row per message sent, for ever. The outcome is on the delivery row.
@db_task()
def delivery_send_task(delivery_id: int) -> None:
    outcome = services.delivery_process(delivery_id)
    logger.debug("delivery %s: %s", delivery_id, outcome)


@db_task()
def deliveries_fan_out_task(items: list[tuple[int, Any]]) -> None:
    """Expand a large batch into one message per delivery (lost with its worker, recovery re-queues)."""
    services.deliveries_enqueue(items, fan_out=False)


@db_periodic_task(crontab(minute="*"))
def deliveries_recover_task() -> None:
    queued = services.deliveries_recover()
    if queued:
        logger.info("notify: re-queued %d deliveries", queued)


@HUEY.on_startup()
def deliveries_recover_on_startup() -> None:
    """A worker that starts (after a crash, a deploy) first picks up what its predecessor left."""
    if HUEY.immediate:
        return
    try:
        close_old_connections()
        queued = services.deliveries_recover()
        if queued:
            logger.warning("notify: re-queued %d deliveries at worker start", queued)
    except Exception:  # the periodic recovery tries again in a minute
        logger.exception("notify: recovery at worker start failed")
    finally:
        close_old_connections()
