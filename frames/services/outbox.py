"""Queueing tasks so that none is lost while the broker is down.

`task_send` hands a task to the broker (after the write that asked for it committed); when the broker does not
answer, the task is kept in the TaskOutbox table instead, and `outbox_send` (run by every worker's sweep,
frames.tasks.WorkSweep) sends the kept tasks once the broker is back. The write itself succeeds either way.
Every task tolerates being delivered twice (jobs are claimed, renditions skip rows already made), so a kept
task that is sent again after all does no work twice.
"""
from __future__ import annotations

import logging

from celery import current_app
from kombu.exceptions import ChannelError

from ..models import TaskOutbox

logger = logging.getLogger(__name__)
SEND_BATCH = 500


def task_send(task: str, args: list, *, priority: int | None = None) -> bool:
    """Queue a task now; False when the broker did not answer and the task was kept for the sweep."""
    if _send(task, args, priority):
        return True
    TaskOutbox.objects.create(task=task, args=args, priority=priority)
    return False


def tasks_send(task: str, many_args: list[list], *, priority: int | None = None) -> bool:
    """Queue one task per item of `many_args`; once the broker fails, the rest are kept without trying it again
    (a write asking for 10,000 renditions does not wait for 10,000 refused connections)."""
    for index, args in enumerate(many_args):
        if not _send(task, args, priority):
            TaskOutbox.objects.bulk_create(
                [TaskOutbox(task=task, args=kept, priority=priority) for kept in many_args[index:]], batch_size=SEND_BATCH
            )
            return False
    return True


def _send(task: str, args: list, priority: int | None) -> bool:
    try:
        current_app.send_task(task, args=args, priority=priority, retry=False)
        return True
    except Exception as exc:  # the broker is down (connection refused, timed out, reset)
        logger.warning("could not queue %s %s: %s", task, args[:1], exc)
        return False


def outbox_send(*, user=None) -> tuple[int, bool]:
    """Send the kept tasks, oldest first, each removed once the broker took it; stops at the first the broker
    refuses (it is still down: the next sweep tries again). How many were sent, and whether the broker answered."""
    sent = 0
    while True:
        rows = list(TaskOutbox.objects.order_by("pk")[:SEND_BATCH])
        for row in rows:
            if not _send(row.task, row.args, row.priority):
                return sent, False
            TaskOutbox.objects.filter(pk=row.pk).delete()
            sent += 1
        if len(rows) < SEND_BATCH:
            return sent, True


def broker_waiting() -> int | None:
    """How many tasks wait in the workers' queue (every priority; not those a worker holds); None when the
    broker did not answer."""
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1)
            return conn.default_channel.queue_declare(queue=current_app.conf.task_default_queue, passive=True).message_count
    except ChannelError:  # Redis keeps no empty list: no such queue is an empty one
        return 0
    except Exception as exc:  # the broker is down
        logger.warning("could not read the queue's length: %s", exc)
        return None
