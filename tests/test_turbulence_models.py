"""The learned closures: the TBNN's prediction rotates exactly with its input and the MLP's does
not; the tensor-basis forest rotates too; a TBNN trained on a known closure recovers it; a trained
ensemble is read back from its checkpoints."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from flowlearn.baselines.turbulence import TensorBasisForest
from flowlearn.models.turbulence import TBNN, MLPClosure, build
from flowlearn.physics import turbulence as turb
from flowlearn.training.turbulence import ClosureSettings, load_closure, train_closure


def _inputs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n, 3, 3)) * rng.uniform(0.2, 3, size=(n, 1, 1))
    k, eps = rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, n)
    return turb.normalised_tensors(G, k, eps).X


@pytest.mark.parametrize("det", [1, -1], ids=["rotation", "reflection"])
def test_tbnn_rotates_exactly_with_its_input_and_the_mlps_do_not(det):
    X = torch.tensor(_inputs(64, 0))
    Q = torch.tensor(Rotation.random(random_state=5).as_matrix() * np.array([1, 1, det]))
    rotated = Q @ X @ Q.T
    torch.manual_seed(0)
    tbnn = TBNN(16, 2).double()
    tbnn.fit_normalisation(X)
    with torch.no_grad():
        b, b_rot = tbnn(X), tbnn(rotated)
    assert torch.allclose(b_rot, Q @ b @ Q.T, atol=1e-12)
    assert torch.allclose(b, b.transpose(1, 2)) and torch.allclose(
        turb.trace(b), torch.zeros(64, dtype=b.dtype), atol=1e-12
    )
    for inputs in ("invariants", "components"):
        mlp = MLPClosure(16, 2, inputs).double()
        mlp.fit_normalisation(X)
        with torch.no_grad():
            m, m_rot = mlp(X), mlp(rotated)
        assert (m_rot - Q @ m @ Q.T).abs().max() > 1e-3, inputs
        assert torch.allclose(turb.trace(m), torch.zeros(64, dtype=m.dtype), atol=1e-12)


def test_tensor_basis_forest_rotates_and_learns_a_tensor_basis_relation():
    X, Xt = _inputs(1500, 1), _inputs(300, 2)
    truth = turb.QuadraticEddyViscosity()
    forest = TensorBasisForest(n_estimators=30, seed=0).fit(X, truth.predict(X))
    Q = Rotation.random(random_state=6).as_matrix()
    assert np.allclose(forest.predict(Q @ Xt @ Q.T), Q @ forest.predict(Xt) @ Q.T, atol=1e-10)
    err = np.sqrt(np.mean((forest.predict(Xt) - truth.predict(Xt)) ** 2))
    size = np.sqrt(np.mean(truth.predict(Xt) ** 2))
    assert err < 0.2 * size
    with pytest.raises(RuntimeError, match="before fit"):
        TensorBasisForest().predict(Xt)


def test_unknown_network_kind_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        build("transformer", 8, 2)
    with pytest.raises(ValueError, match="invariants"):
        MLPClosure(8, 2, "raw")


def test_a_trained_tbnn_recovers_a_known_closure_and_loads_back(tmp_path, one_torch_thread):
    """QEVM's b is a tensor-basis function of the invariants: a TBNN can represent it exactly,
    LEVM cannot; after a short training the TBNN's error is a small share of LEVM's."""
    truth = turb.QuadraticEddyViscosity()
    X, Xv = _inputs(3000, 3), _inputs(500, 4)
    settings = ClosureSettings(kind="tbnn", width=32, depth=2, epochs=25, batch_size=128,
                               lr=3e-3, members=2)  # fmt: skip
    trained = train_closure(X, truth.predict(X), Xv, truth.predict(Xv), settings, tmp_path)
    Xt = _inputs(500, 5)
    b = truth.predict(Xt)
    tbnn = np.sqrt(np.mean((trained.ensemble.predict(Xt) - b) ** 2))
    levm = np.sqrt(np.mean((turb.LinearEddyViscosity().predict(Xt) - b) ** 2))
    assert tbnn < 0.25 * levm, (tbnn, levm)
    assert len(trained.histories) == 2 and len(trained.histories[0]) == 25
    again = load_closure(tmp_path, "tbnn", 32, 2)
    assert np.allclose(again.predict(Xt), trained.ensemble.predict(Xt))
    with pytest.raises(FileNotFoundError, match="no mlp closure"):
        load_closure(tmp_path, "mlp", 32, 2)
