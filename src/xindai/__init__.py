"""Xindai (信贷): an open-source platform for running a consumer cash-loan business.

The pure core (money, dates, products, schedules, servicing rules, the reloan ladder) has no
I/O; services, the API and the CLI are built on it.
"""

__version__ = "0.1.0"
