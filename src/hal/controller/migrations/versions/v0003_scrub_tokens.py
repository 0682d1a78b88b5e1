"""Scrub API tokens from stored job environments: submissions kept the client's HAL_TOKEN with the job, in plain
text, while the tokens table holds only digests.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("request", sa.Text))
    rows = conn.execute(sa.select(jobs.c.id, jobs.c.request).where(jobs.c.request.like('%"HAL_TOKEN"%'))).all()
    for job_id, text in rows:
        request = json.loads(text)
        if isinstance(request.get("env"), dict) and request["env"].pop("HAL_TOKEN", None) is not None:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(request=json.dumps(request)))


def downgrade() -> None:
    return None  # what was scrubbed is gone
