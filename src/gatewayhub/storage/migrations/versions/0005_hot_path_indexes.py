"""Indexes for the writes a payment makes and the reads that run all the time.

- attempts (status, started_at) replaces attempts (status): the reconciler's search for
  overdue attempts now starts from the open attempts instead of scanning every payment.
- payments (status, updated_at) and ledger_entries (transaction_id) go: no query used
  them, and every payment wrote to both.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_attempts_status_started_at", "attempts", ["status", "started_at"])
    op.drop_index("ix_attempts_status", table_name="attempts")
    op.drop_index("ix_payments_status_updated_at", table_name="payments")
    op.drop_index("ix_ledger_entries_transaction_id", table_name="ledger_entries")


def downgrade() -> None:
    op.create_index("ix_ledger_entries_transaction_id", "ledger_entries", ["transaction_id"])
    op.create_index("ix_payments_status_updated_at", "payments", ["status", "updated_at"])
    op.create_index("ix_attempts_status", "attempts", ["status"])
    op.drop_index("ix_attempts_status_started_at", table_name="attempts")
