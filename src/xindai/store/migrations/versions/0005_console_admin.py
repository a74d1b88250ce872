"""console administration: reconciliation runs and breaks, close-of-business runs,
back-test runs, SMS templates (the platform's own seeded as approved) and the SMS outbox;
product versions' creation time, change note and retirement

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SIGN = "【信贷】"
# the messages the platform sends itself, approved from the start (as the simulator has them)
TEMPLATES: tuple[tuple[str, str, str, list[str]], ...] = (
    ("OTP", "verification", SIGN + "您的验证码为{code}，5分钟内有效，请勿告诉他人。", ["code"]),
    (
        "PAYOUT_NOTICE",
        "notice",
        SIGN + "您的借款{amount}元已发放至尾号{card_tail}的银行卡。",
        ["amount", "card_tail"],
    ),
    (
        "REPAYMENT_REMINDER",
        "reminder",
        SIGN + "您的借款将于{due_date}到期，应还{amount}元，请保持银行卡余额充足。",
        ["amount", "due_date"],
    ),
    (
        "REPAYMENT_RECEIVED",
        "notice",
        SIGN + "已收到您的还款{amount}元，感谢您的支持。",
        ["amount"],
    ),
    (
        "OVERDUE_NOTICE",
        "collection",
        SIGN + "您的借款已逾期{days}天，应还{amount}元，请尽快还款。",
        ["amount", "days"],
    ),
    (
        "REVIEW_MORE_INFO",
        "notice",
        SIGN + "您的借款申请需要补充资料，请打开App查看并提交。",
        [],
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("retired_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("retired_on", sa.Date(), nullable=True))

    op.create_table(
        "reconciliation_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.String(length=128), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("statement_rows", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("matched_fen", sa.BigInteger(), nullable=False),
        sa.Column("breaks", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_runs_uploaded_at"), ["uploaded_at"])

    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("statement_fen", sa.BigInteger(), nullable=True),
        sa.Column("journal_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_breaks")),
    )
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_breaks_run_id"), ["run_id"])
        batch_op.create_index("ix_reconciliation_breaks_status_day", ["status", "day"])

    op.create_table(
        "cob_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("until_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("withholding", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("working_date", sa.Date(), nullable=True),
        sa.Column("current_step", sa.String(length=32), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("days_done", sa.Integer(), nullable=False),
        sa.Column("days_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("resumes", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cob_runs")),
    )
    with op.batch_alter_table("cob_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cob_runs_started_at"), ["started_at"])

    op.create_table(
        "backtest_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtest_runs")),
    )
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backtest_runs_requested_at"), ["requested_at"])

    templates = op.create_table(
        "sms_templates",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_templates")),
        sa.UniqueConstraint("code", "version", name="uq_sms_templates_code_version"),
    )
    seeded = datetime(2026, 12, 3)
    op.bulk_insert(
        templates,
        [
            {
                "code": code,
                "version": 1,
                "purpose": purpose,
                "text": text,
                "variables": json.dumps(variables),
                "status": "approved",
                "created_by": "system",
                "created_at": seeded,
                "decided_by": "system",
                "decided_at": seeded,
                "note": "the platform's own message",
            }
            for code, purpose, text, variables in TEMPLATES
        ],
    )

    op.create_table(
        "sms_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=20), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=256), nullable=True),
        sa.Column("borrower_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_outbox_sent_at"), ["sent_at"])
        batch_op.create_index(batch_op.f("ix_sms_outbox_phone_hash"), ["phone_hash"])


def downgrade() -> None:
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_outbox_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_sms_outbox_sent_at"))
    op.drop_table("sms_outbox")
    op.drop_table("sms_templates")
    with op.batch_alter_table("backtest_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backtest_runs_requested_at"))
    op.drop_table("backtest_runs")
    with op.batch_alter_table("cob_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cob_runs_started_at"))
    op.drop_table("cob_runs")
    with op.batch_alter_table("reconciliation_breaks", schema=None) as batch_op:
        batch_op.drop_index("ix_reconciliation_breaks_status_day")
        batch_op.drop_index(batch_op.f("ix_reconciliation_breaks_run_id"))
    op.drop_table("reconciliation_breaks")
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_runs_uploaded_at"))
    op.drop_table("reconciliation_runs")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("retired_on")
        batch_op.drop_column("retired_by")
        batch_op.drop_column("note")
        batch_op.drop_column("created_at")
