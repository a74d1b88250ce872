"""Risk: decision engine, strategies, anti-fraud, scorecards, pricing, limits, reloan ladder,
pre-credit and manual review. May import the core (money, dates, products …), never api/cli.
"""
