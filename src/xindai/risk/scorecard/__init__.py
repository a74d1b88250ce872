"""Scorecards (评分卡): WOE binning + logistic regression scaled to points, scoring, KS/AUC/PSI.

Scoring (`model`, `metrics`) needs only numpy/pandas; `fit` adds optbinning and scikit-learn.
"""
