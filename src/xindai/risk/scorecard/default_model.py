"""The default strategy's scorecard: trained reproducibly on the platform's synthetic history.

`load_default_model()` reads the shipped `default_model.json` (no optbinning needed);
`train_default_model()` rebuilds it — same data, parameters and `created_at`, so the same
version hash (`xindai scorecard train-default` writes it back).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from xindai.risk.scorecard.model import ScorecardModel

if TYPE_CHECKING:
    from xindai.risk.scorecard.fit import Progress

DEFAULT_MODEL_NAME = "xindai-default-scorecard"
DEFAULT_TRAINING_ROWS = 20_000
DEFAULT_TRAINING_SEED = 7
DEFAULT_CREATED_AT = "2026-01-01T00:00:00+08:00"
DEFAULT_MODEL_FILE = "default_model.json"
DEFAULT_MODEL_PATH = Path(__file__).with_name(DEFAULT_MODEL_FILE)
"""Where the shipped artifact lives in a source checkout."""


def train_default_model(progress: Progress | None = None) -> ScorecardModel:
    """Fit the default scorecard on `generate_history(20000, seed=7)` (600 at 50:1, PDO 20)."""
    # the fitting stack (optbinning, pandas) loads only here: scoring needs none of it
    from xindai.risk.scorecard.fit import fit_scorecard
    from xindai.risk.scorecard.synthetic import BAD_VALUE, FEATURES, TARGET, generate_history

    history = generate_history(DEFAULT_TRAINING_ROWS, DEFAULT_TRAINING_SEED)
    return fit_scorecard(
        history,
        TARGET,
        BAD_VALUE,
        features=list(FEATURES),
        base_score=600,
        base_odds=50,
        pdo=20,
        created_at=DEFAULT_CREATED_AT,
        name=DEFAULT_MODEL_NAME,
        progress=progress,
    )


@cache
def load_default_model() -> ScorecardModel:
    """The shipped default scorecard (read once, then cached; the model is immutable)."""
    text = resources.files(__package__).joinpath(DEFAULT_MODEL_FILE).read_text(encoding="utf-8")
    return ScorecardModel.from_json(text, source=DEFAULT_MODEL_FILE)
