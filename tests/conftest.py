"""Shared fixtures: where the reference data lives, and a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$FLOWLEARN_DATA`` or ``<repo>/../shared/data`` (the project's reference data)."""
    env = os.environ.get("FLOWLEARN_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"reference data folder {path} is absent")
    return path
