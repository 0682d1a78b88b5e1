"""The range of a job id: what the store's 32-bit integer columns (jobs.id, array_job_id, array_task_id) hold.

Every parser of a job reference caps at it, so an id past it is no job (404) on SQLite as on PostgreSQL, where
it made the query itself fail (NumericValueOutOfRange, a 500)."""

from __future__ import annotations

MAX_JOB_ID = 2**31 - 1
