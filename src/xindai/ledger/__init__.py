"""The ledger (财务): chart of accounts, the immutable journal, trial balance and
reconciliation of payment-channel statements. `accounts` is pure; the rest uses the store.
"""
