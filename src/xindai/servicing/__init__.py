"""Servicing: loan account, transaction log and replay, allocation waterfall, penalties, early
settlement, extension, deferral, restructure, waiver, write-off, sale. Pure rules import the core.
"""
