"""collections (催收): reminder plans (the defaults D-3, D-1, D0, D+1, D+3) and reminders,
queues (the defaults M1, M2-M3, M3+ agencies, M6+ legal) and their members, cases,
assignments, agencies, their users and placements, contacts, promises, letters, settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# code, zh, en, dpd_min, dpd_max, owner, allocation, capacity, no_promise_days, priority
QUEUES = (
    ("M1", "M1 早期催收", "M1 early stage", 1, 30, "inhouse", "round_robin", 200, 5, 10),
    ("M2M3", "M2-M3 资深催收", "M2-M3 senior", 31, 90, "inhouse", "capacity", 100, 10, 20),
    ("M3P", "M3+ 委外", "M3+ agencies", 91, 180, "agency", "performance", 100000, None, 30),
    ("M6P", "M6+ 法务/核销", "M6+ legal / write-off", 181, None, "legal", "round_robin", 0, None,
     40),
)  # fmt: skip
PLANS = (
    (-3, "REPAYMENT_REMINDER"),
    (-1, "REPAYMENT_REMINDER"),
    (0, "REPAYMENT_REMINDER"),
    (1, "OVERDUE_NOTICE"),
    (3, "OVERDUE_NOTICE"),
)


def _seed() -> None:
    now = datetime(2026, 1, 1)
    queues = sa.table(
        "collection_queues",
        *(sa.column(c) for c in ("code", "name_zh", "name_en", "dpd_min", "dpd_max", "owner",
                                 "allocation", "capacity", "no_promise_days", "priority",
                                 "active", "rr_cursor")),
    )  # fmt: skip
    op.bulk_insert(
        queues,
        [
            dict(zip(("code", "name_zh", "name_en", "dpd_min", "dpd_max", "owner", "allocation",
                      "capacity", "no_promise_days", "priority"), q, strict=True))
            | {"active": True, "rr_cursor": 0}
            for q in QUEUES
        ],
    )  # fmt: skip
    plans = sa.table(
        "collection_reminder_plans",
        *(sa.column(c) for c in ("offset_days", "template_code", "active", "updated_by",
                                 "updated_at")),
    )  # fmt: skip
    op.bulk_insert(
        plans,
        [
            {"offset_days": o, "template_code": t, "active": True, "updated_by": "system",
             "updated_at": now}
            for o, t in PLANS
        ],
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "collection_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("contact_ref", sa.String(length=32), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=20), nullable=True),
        sa.Column("connection", sa.String(length=16), nullable=True),
        sa.Column("party", sa.String(length=16), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("recording_ref", sa.String(length=128), nullable=True),
        sa.Column("template_code", sa.String(length=32), nullable=True),
        sa.Column("sms_status", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("document_id", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_actions")),
    )
    with op.batch_alter_table("collection_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_actions_actor_day", ["actor_id", "business_date"], unique=False
        )
        batch_op.create_index("ix_collection_actions_case", ["case_id", "id"], unique=False)
        batch_op.create_index(
            "ix_collection_actions_debtor_day", ["borrower_id", "local_day", "kind"], unique=False
        )
        batch_op.create_index(
            "ix_collection_actions_phone_day", ["phone_hash", "local_day"], unique=False
        )

    op.create_table(
        "collection_agencies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("commission_rate", sa.String(length=16), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_collection_agencies_code")),
    )
    op.create_table(
        "collection_agency_users",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_collection_agency_users")),
    )
    with op.batch_alter_table("collection_agency_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_agency_users_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "collection_assignments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("queue_id", sa.BigInteger(), nullable=True),
        sa.Column("from_staff", sa.BigInteger(), nullable=True),
        sa.Column("to_staff", sa.BigInteger(), nullable=True),
        sa.Column("from_agency", sa.BigInteger(), nullable=True),
        sa.Column("to_agency", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_assignments")),
    )
    with op.batch_alter_table("collection_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_assignments_business_date"), ["business_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_collection_assignments_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_collection_assignments_to_staff"), ["to_staff"], unique=False
        )

    op.create_table(
        "collection_cases",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("overdue_fen", sa.BigInteger(), nullable=False),
        sa.Column("overdue_at_open_fen", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.BigInteger(), nullable=False),
        sa.Column("queue_id", sa.BigInteger(), nullable=True),
        sa.Column("queued_on", sa.Date(), nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("placement_id", sa.BigInteger(), nullable=True),
        sa.Column("assigned_on", sa.Date(), nullable=True),
        sa.Column("held_until", sa.Date(), nullable=True),
        sa.Column("quadrant", sa.String(length=4), nullable=True),
        sa.Column("test_cell", sa.String(length=16), nullable=False),
        sa.Column("legal", sa.Boolean(), nullable=False),
        sa.Column("requeue", sa.Boolean(), nullable=False),
        sa.Column("requeue_reason", sa.String(length=16), nullable=True),
        sa.Column("last_promise_on", sa.Date(), nullable=True),
        sa.Column("broken_promises", sa.Integer(), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_cases")),
    )
    with op.batch_alter_table("collection_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_cases_agency", ["agency_id", "status", "priority", "id"], unique=False
        )
        batch_op.create_index(
            "ix_collection_cases_assignee",
            ["assignee_id", "status", "priority", "id"],
            unique=False,
        )
        batch_op.create_index("ix_collection_cases_loan", ["loan_id", "status"], unique=False)
        batch_op.create_index(
            "ix_collection_cases_open_loan",
            ["loan_id"],
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.create_index("ix_collection_cases_queue", ["queue_id", "status"], unique=False)
        batch_op.create_index("ix_collection_cases_requeue", ["requeue", "status"], unique=False)
        batch_op.create_index(
            "ix_collection_cases_status", ["status", "priority", "id"], unique=False
        )

    op.create_table(
        "collection_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_letters")),
    )
    with op.batch_alter_table("collection_letters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_letters_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "collection_placements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("balance_at_placement_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("commission_rate", sa.String(length=16), nullable=False),
        sa.Column("commission_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_placements")),
    )
    with op.batch_alter_table("collection_placements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_placements_agency", ["agency_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_collection_placements_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            "ix_collection_placements_window", ["status", "window_end"], unique=False
        )

    op.create_table(
        "collection_promises",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("action_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("judged_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_promises")),
    )
    with op.batch_alter_table("collection_promises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_promises_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index("ix_collection_promises_pending", ["status", "loan_id"], unique=False)

    op.create_table(
        "collection_queue_members",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("queue_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=True),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_queue_members")),
    )
    with op.batch_alter_table("collection_queue_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collection_queue_members_queue_id"), ["queue_id"], unique=False
        )

    op.create_table(
        "collection_queues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("dpd_min", sa.Integer(), nullable=False),
        sa.Column("dpd_max", sa.Integer(), nullable=True),
        sa.Column("product_code", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("allocation", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("no_promise_days", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("rr_cursor", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_queues")),
        sa.UniqueConstraint("code", name=op.f("uq_collection_queues_code")),
    )
    op.create_table(
        "collection_reminder_plans",
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("offset_days", name=op.f("pk_collection_reminder_plans")),
    )
    op.create_table(
        "collection_reminders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_reminders")),
    )
    with op.batch_alter_table("collection_reminders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_reminders_day", ["business_date", "status"], unique=False
        )
        batch_op.create_index(
            "ix_collection_reminders_key", ["loan_id", "installment", "offset_days"], unique=True
        )

    op.create_table(
        "collection_settings",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_collection_settings")),
    )
    _seed()


def downgrade() -> None:
    op.drop_table("collection_settings")
    with op.batch_alter_table("collection_reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_reminders_key")
        batch_op.drop_index("ix_collection_reminders_day")

    op.drop_table("collection_reminders")
    op.drop_table("collection_reminder_plans")
    op.drop_table("collection_queues")
    with op.batch_alter_table("collection_queue_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_queue_members_queue_id"))

    op.drop_table("collection_queue_members")
    with op.batch_alter_table("collection_promises", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_promises_pending")
        batch_op.drop_index(batch_op.f("ix_collection_promises_case_id"))

    op.drop_table("collection_promises")
    with op.batch_alter_table("collection_placements", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_placements_window")
        batch_op.drop_index(batch_op.f("ix_collection_placements_case_id"))
        batch_op.drop_index("ix_collection_placements_agency")

    op.drop_table("collection_placements")
    with op.batch_alter_table("collection_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_letters_case_id"))

    op.drop_table("collection_letters")
    with op.batch_alter_table("collection_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_cases_status")
        batch_op.drop_index("ix_collection_cases_requeue")
        batch_op.drop_index("ix_collection_cases_queue")
        batch_op.drop_index(
            "ix_collection_cases_open_loan",
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_collection_cases_loan")
        batch_op.drop_index("ix_collection_cases_assignee")
        batch_op.drop_index("ix_collection_cases_agency")

    op.drop_table("collection_cases")
    with op.batch_alter_table("collection_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_assignments_to_staff"))
        batch_op.drop_index(batch_op.f("ix_collection_assignments_case_id"))
        batch_op.drop_index(batch_op.f("ix_collection_assignments_business_date"))

    op.drop_table("collection_assignments")
    with op.batch_alter_table("collection_agency_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_agency_users_agency_id"))

    op.drop_table("collection_agency_users")
    op.drop_table("collection_agencies")
    with op.batch_alter_table("collection_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_actions_phone_day")
        batch_op.drop_index("ix_collection_actions_debtor_day")
        batch_op.drop_index("ix_collection_actions_case")
        batch_op.drop_index("ix_collection_actions_actor_day")

    op.drop_table("collection_actions")
