"""The demo lender (`xindai demo start`): months of a small lender's business run through the
real services against the simulators, then served with one login per role; and the older
first-look demos (`build_demo_portfolio`, `build_demo_decisions`). May import every service;
nothing but the command line imports it."""

from xindai.demo.portfolio import (
    BucketRow,
    DecisionDemo,
    DemoSummary,
    build_demo_decisions,
    build_demo_portfolio,
    portfolio_by_bucket,
)

__all__ = [
    "BucketRow",
    "DecisionDemo",
    "DemoSummary",
    "build_demo_decisions",
    "build_demo_portfolio",
    "portfolio_by_bucket",
]
