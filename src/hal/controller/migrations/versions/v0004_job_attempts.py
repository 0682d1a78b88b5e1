"""Earlier attempts of requeued jobs: a requeue clears the job's row for its next run, so each ended attempt (start,
end, nodes, CPUs, how it ended) is kept here for `hal history -D` and for recharging fair share after a restart.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cause", sa.Text, nullable=False, server_default=""),
        sa.Column("account", sa.String(64), nullable=False, server_default=""),
        sa.Column("partition", sa.String(64), nullable=False, server_default=""),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float, nullable=False),
        sa.Column("nodelist", sa.Text, nullable=False, server_default=""),
        sa.Column("alloc_cpus", sa.Integer, nullable=False, server_default="0"),
        sa.Column("alloc", sa.Text, nullable=False, server_default=""),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("signal", sa.Integer, nullable=True),
        sa.Column("cpu_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("max_rss_mb", sa.Float, nullable=False, server_default="0"),
        sa.Column("charged", sa.Boolean, nullable=False),
    )
    op.create_index("ix_job_attempts_job", "job_attempts", ["job_id"])


def downgrade() -> None:
    op.drop_table("job_attempts")
