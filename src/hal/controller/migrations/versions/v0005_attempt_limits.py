"""Each earlier attempt's own time limit: `hal history -D` showed every attempt with the job's current limit, so
the run a --time-min cut killed early read as if it had its whole --time (a requeue gives that back).

Attempts kept before this revision take their job's limit, as they were shown until now.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_attempts", sa.Column("time_limit", sa.Float, nullable=True))  # NULL: UNLIMITED
    op.execute(
        "UPDATE job_attempts SET time_limit = (SELECT jobs.time_limit FROM jobs WHERE jobs.id = job_attempts.job_id)"
    )


def downgrade() -> None:
    op.drop_column("job_attempts", "time_limit")
