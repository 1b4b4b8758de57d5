"""The out-of-distribution score: shape descriptors against hand-counted values, a detector
calibrated on one distribution flags another, its file round-trips and refuses damage."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flowlearn.evaluation.ood import (
    DESCRIPTORS,
    Bodies,
    OODDetector,
    auroc,
    relative_spread,
    shape_descriptors,
    warning_reliability,
)
from flowlearn.physics.shape_families import random_shape

GRID = (64, 32)


def _masks(families, n, seed):
    return np.stack(
        [
            random_shape(
                families[i % len(families)], np.random.default_rng([seed, i]), GRID
            ).sample(*GRID, 1.0)
            < 0
            for i in range(n)
        ]
    )


def _d(row, name):
    return row[DESCRIPTORS.index(name)]


def test_descriptors_of_squares_and_an_l_shape():
    mask = np.zeros((2, 32, 64), bool)
    mask[0, 10:16, 20:26] = True  # a 6 x 6 square
    mask[1, 10:16, 20:22] = True  # an L: 6 tall, 2 wide, foot 6 long and 2 tall
    mask[1, 10:12, 20:26] = True
    d = shape_descriptors(mask)
    assert np.exp(_d(d[0], "log_height")) == 6 and np.exp(_d(d[0], "log_area")) == 36
    assert _d(d[0], "solidity") == pytest.approx(1.0)
    assert _d(d[0], "compactness") == pytest.approx(1.0)  # 24 faces / (4 * 6)
    assert _d(d[0], "bodies") == 1
    assert _d(d[0], "centre_x") == pytest.approx(23 / 64)
    assert _d(d[0], "centre_y") == pytest.approx((13 - 16) / 32)
    # the L: 20 cells; hull of the squares' corners = 36 - the triangle cut = 36 - 8
    assert _d(d[1], "solidity") == pytest.approx(20 / 28)
    assert _d(d[1], "log_aspect") == pytest.approx(0.0)


def test_descriptors_count_separate_bodies_and_refuse_bad_masks():
    mask = np.zeros((32, 64), bool)
    mask[5:8, 5:8] = mask[20:23, 30:33] = True
    assert _d(shape_descriptors(mask)[0], "bodies") == 2
    with pytest.raises(ValueError, match=r"mask\(s\) \[1\] have no solid cell"):
        shape_descriptors(np.stack([mask, np.zeros_like(mask)]))
    with pytest.raises(ValueError, match=r"\(N, ny, nx\) or \(ny, nx\)"):
        shape_descriptors(np.zeros(5, bool))


def _evidence(families, n, seed, spread_level=None):
    """Bodies of ``families`` with a made-up prediction: a uniform flow, and a spread that
    grows with the number of separate bodies (scaled by ``spread_level``); and an "error"
    that the spread and the Reynolds number explain, as an ensemble's would."""
    rng = np.random.default_rng(seed)
    mask = _masks(families, n, seed)
    sdf = np.where(mask, -1.0, 5.0)
    re = rng.uniform(10, 40, n)
    fields = np.zeros((n, 3, *mask.shape[1:]))
    fields[:, 0] = 1.0
    bodies = shape_descriptors(mask)[:, DESCRIPTORS.index("bodies")]
    level = 0.01 * bodies * rng.uniform(0.8, 1.2, n)
    spread = np.zeros_like(fields)
    spread[:, 0] = level[:, None, None] * (1 if spread_level is None else spread_level)
    error = 2.0 * level * (re / 25.0)
    return Bodies(mask, sdf, re), fields, spread, error


@pytest.fixture(scope="module")
def detector():
    own = ("circle", "ellipse", "rectangle", "multi")
    bodies, fields, spread, error = _evidence(own, 160, seed=0)
    det = OODDetector.fit(bodies, fields, spread, error)
    return det.calibrate(*_evidence(own, 60, seed=1)[:3])


def test_the_error_model_ranks_errors_on_other_shapes(detector):
    """Fitted on one distribution, the score ranks the errors of another (the held-out
    question) and flags about 5 % of fresh in-distribution bodies."""
    bodies, fields, spread, error = _evidence(("triple", "pair", "cshape"), 60, seed=3)
    score = detector.score(bodies, fields, spread)
    assert auroc(score, error > np.quantile(error, 0.7)) > 0.9
    own = _evidence(("circle", "ellipse", "rectangle", "multi"), 80, seed=2)
    assert (detector.score(*own[:3]) > 1).mean() <= 0.15
    # the spread is what the model learned to read: a doubled spread raises the score
    assert (detector.score(bodies, fields, 2 * spread) > score).all()


def test_a_single_member_detector_reads_the_shape_and_the_reynolds_number():
    bodies, fields, spread, error = _evidence(("circle", "multi"), 80, seed=0)
    det = OODDetector.fit(bodies, fields, None, error).calibrate(bodies, fields, None)
    assert not det.uses_spread and "log_spread" not in det.feature_names
    assert det.score(bodies, fields, None).shape == (80,)
    ens = OODDetector.fit(bodies, fields, spread, error).calibrate(bodies, fields, spread)
    with pytest.raises(ValueError, match="reads the ensemble's spread"):
        ens.score(bodies, fields, None)
    with pytest.raises(ValueError, match="not calibrated"):
        OODDetector.fit(bodies, fields, None, error).score(bodies, fields, None)
    with pytest.raises(ValueError, match="6 training bodies: the detector needs more than 6"):
        OODDetector.fit(Bodies(*(a[:6] for a in bodies)), fields[:6], None, error[:6])


def test_detector_names_what_is_unusual():
    bodies, fields, _, error = _evidence(("circle", "ellipse"), 40, seed=0)
    det = OODDetector.fit(bodies, fields, None, error)
    for mask in _masks(("cshape",), 4, seed=4):
        assert any(u.startswith("solidity") for u in det.unusual(mask)), det.unusual(mask)
    assert not any(det.unusual(m) for m in bodies.mask)  # inside the training range


def test_relative_spread_is_spread_over_speed_in_the_fluid():
    fields = np.zeros((1, 3, 4, 8))
    fields[:, 0] = 2.0
    spread = np.zeros_like(fields)
    spread[:, 1] = 0.1
    mask = np.zeros((1, 4, 8), bool)
    mask[0, 1:3, 2:4] = True
    spread[0, 1, 1:3, 2:4] = 100.0  # inside the body: ignored
    assert relative_spread(spread, fields, mask)[0] == pytest.approx(0.05)


def test_detector_file_round_trips_and_refuses_damage(detector, tmp_path):
    path = tmp_path / "ood.json"
    detector.to_json(path)
    again = OODDetector.from_json(path)
    evidence = _evidence(("gear",), 5, seed=5)[:3]
    np.testing.assert_allclose(again.score(*evidence), detector.score(*evidence), rtol=1e-4)
    data = json.loads(path.read_text())
    data["coef"] = data["coef"][:3]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not a calibrated out-of-distribution detector"):
        OODDetector.from_json(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not an out-of-distribution detector"):
        OODDetector.from_json(path)


def test_auroc_and_reliability(detector):
    assert auroc(np.array([0.1, 0.2, 0.9]), np.array([0, 0, 1])) == 1.0
    assert auroc(np.array([0.1, 0.2]), np.array([1, 1])) is None
    bodies, fields, spread, error = _evidence(("circle", "triple"), 40, seed=6)
    # a spread scaled so that the flag splits the bodies
    spread = next(
        c * spread
        for c in (1, 1.5, 2, 3, 5, 8, 13)
        if 0 < (detector.score(bodies, fields, c * spread) > 1).mean() < 1
    )
    score = detector.score(bodies, fields, spread)
    flagged = score > 1
    error = np.where(score > np.median(score), 0.1, 0.01)  # the score ranks them perfectly
    positive = error > 0.05
    rel = warning_reliability(detector, bodies, fields, spread, error, large=0.05)
    assert rel["auroc"] == 1.0 and rel["samples"] == 40
    assert rel["recall"] == pytest.approx(flagged[positive].mean())
    assert rel["precision"] == pytest.approx(positive[flagged].mean())
    assert rel["flagged_fraction"] == pytest.approx(flagged.mean())
    assert rel["auroc_spread"] is not None
    single = warning_reliability(detector, bodies, fields, spread, error, large=1.0)
    assert single["auroc"] is None and single["recall"] is None
