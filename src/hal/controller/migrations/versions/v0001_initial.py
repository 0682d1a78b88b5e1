"""Initial schema: jobs, their transitions, API tokens and idempotent submissions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("array_job_id", sa.Integer, nullable=True),
        sa.Column("array_task_id", sa.Integer, nullable=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("qos", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cause", sa.Text, nullable=False, server_default=""),
        sa.Column("submit_time", sa.Float, nullable=False),
        sa.Column("start_time", sa.Float, nullable=True),
        sa.Column("end_time", sa.Float, nullable=True),
        sa.Column("predicted_end", sa.Float, nullable=True),
        sa.Column("time_limit", sa.Float, nullable=True),
        sa.Column("req_nodes", sa.Integer, nullable=True),
        sa.Column("req_tasks", sa.Integer, nullable=False),
        sa.Column("req_cpus", sa.Integer, nullable=False),
        sa.Column("req_mem_mb", sa.Integer, nullable=False),
        sa.Column("req_gpus", sa.Integer, nullable=False),
        sa.Column("alloc_cpus", sa.Integer, nullable=False, server_default="0"),
        sa.Column("nodelist", sa.Text, nullable=False, server_default=""),
        sa.Column("alloc", sa.Text, nullable=False, server_default=""),
        sa.Column("exit_code", sa.Integer, nullable=True),
        sa.Column("signal", sa.Integer, nullable=True),
        sa.Column("cpu_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("max_rss_mb", sa.Float, nullable=False, server_default="0"),
        sa.Column("requeue", sa.Boolean, nullable=False),
        sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("workdir", sa.Text, nullable=False),
        sa.Column("stdout_path", sa.Text, nullable=False, server_default=""),
        sa.Column("stderr_path", sa.Text, nullable=False, server_default=""),
        sa.Column("request", sa.Text, nullable=False),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_user", "jobs", ["user"])
    op.create_index("ix_jobs_array", "jobs", ["array_job_id"])
    op.create_index("ix_jobs_end", "jobs", ["end_time"])
    op.create_table(
        "job_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id"])
    op.create_table(
        "tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("admin", sa.Boolean, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("label", sa.String(128), nullable=False, server_default=""),
    )
    op.create_table(
        "submissions",
        sa.Column("user", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("first_job_id", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("submissions", "tokens", "job_events", "jobs"):
        op.drop_table(table)
