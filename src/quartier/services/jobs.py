"""Background jobs: long work (imports…) run in a small in-process thread pool.

A request hands the work over and answers at once with the job's id; the
caller then follows the job's status (queued → running → done | failed),
its progress counters and, at the end, its result or a one-line error.
Jobs belong to whoever started them and live in the memory of the process
that runs them: a restart forgets them (what finished is in the store; what
was queued is lost and the caller's retry is safe because imports are
idempotent by checksum). The same work submitted while it is still queued or
running is not queued twice (``find_active``).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from quartier.access import Principal
from quartier.errors import NotFound, QuartierError
from quartier.storage.base import now

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: finished jobs kept for their owners to read, oldest forgotten first
KEEP_FINISHED = 500


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    #: what the job works on (a dataset slug…), for links and duplicate checks
    target: str = ""
    #: identifies the same work submitted twice (e.g. dataset + file checksum)
    key: str = ""
    status: str = QUEUED
    created: str = field(default_factory=now)
    started: str | None = None
    finished: str | None = None
    progress: dict[str, int] = field(default_factory=dict)
    result: Any = None
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to a progress counter (called from the worker thread)."""
        with self._lock:
            self.progress[counter] = self.progress.get(counter, 0) + n

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            progress = dict(self.progress)
        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "target": self.target,
            "status": self.status,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "progress": progress,
            "result": self.result,
            "error": self.error,
        }


Work = Callable[[Job], Any]


class JobRunner:
    """Runs jobs on ``workers`` threads and remembers them for their owners."""

    def __init__(self, *, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(
        self,
        work: Work,
        *,
        kind: str,
        owner: str,
        target: str = "",
        key: str = "",
        cleanup: Callable[[], None] | None = None,
    ) -> Job:
        """Queue ``work(job)``; its return value becomes the job's result."""
        job = Job(
            id=secrets.token_hex(8), kind=kind, owner=owner, target=target, key=key
        )
        self._remember(job)
        try:
            self._pool.submit(self._run, job, work, cleanup)
        except RuntimeError:  # shut down: refuse rather than lose the work
            if cleanup:
                cleanup()
            self._finish(job, FAILED, error="the server is shutting down; retry")
        return job

    def finished(self, *, kind: str, owner: str, target: str, result: Any) -> Job:
        """Record work that needed no thread (e.g. a retry already done)."""
        job = Job(id=secrets.token_hex(8), kind=kind, owner=owner, target=target)
        job.started = job.created
        self._remember(job)
        self._finish(job, DONE, result=result)
        return job

    def find_active(self, key: str) -> Job | None:
        """A queued or running job doing the same work, if any."""
        with self._lock:
            for job in self._jobs.values():
                if job.key == key and job.active:
                    return job
        return None

    def get(self, job_id: str, p: Principal) -> Job:
        """The job, for its owner or an administrator (others: not found)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or not (p.is_admin or job.owner == p.username):
            raise NotFound(f"no job {job_id!r}")
        return job

    def list(self, p: Principal) -> list[Job]:
        """The caller's jobs, newest first (administrators: everyone's)."""
        with self._lock:
            jobs = list(self._jobs.values())
        mine = [j for j in jobs if p.is_admin or j.owner == p.username]
        return mine[::-1]

    def shutdown(self, *, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    # ------------------------------------------------------------- internal
    def _remember(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            finished = [j.id for j in self._jobs.values() if not j.active]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[old]

    def _run(self, job: Job, work: Work, cleanup: Callable[[], None] | None) -> None:
        job.started, job.status = now(), RUNNING
        result, error = None, ""
        try:
            result = work(job)
        except QuartierError as e:
            error = str(e) or type(e).__name__
        except Exception as e:  # a bug: say so without leaking internals
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = f"internal error ({type(e).__name__})"
        # clean up before the job says it has finished: a caller that sees
        # "done" finds no temporary file left behind
        if cleanup:
            try:
                cleanup()
            except OSError:
                log.warning("job %s: cleanup failed", job.id, exc_info=True)
        self._finish(job, FAILED if error else DONE, result=result, error=error)

    @staticmethod
    def _finish(job: Job, status: str, *, result: Any = None, error: str = "") -> None:
        job.result, job.error = result, error
        job.finished = now()
        job.status = status
