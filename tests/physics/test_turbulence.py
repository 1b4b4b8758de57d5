"""Tensor algebra of the closures against values worked by hand (pure shear, pure rotation),
anisotropy and realizability, and the eddy-viscosity models' known behaviour."""

import numpy as np
import pytest

from flowlearn.physics import turbulence as turb


def _one(grad: list[list[float]], k: float = 1.0, eps: float = 1.0, cap=turb.CAP):
    return turb.normalised_tensors(np.array([grad], float), np.array([k]), np.array([eps]), cap)


SHEAR = [[0, 2.0, 0], [0, 0, 0], [0, 0, 0]]  # dU/dy = 2: S12 = R12 = 1
ROTATION = [[0, 1.0, 0], [-1.0, 0, 0], [0, 0, 0]]  # solid-body rotation: S = 0, R12 = 1


def test_pure_shear_invariants_and_basis_by_hand():
    inp = _one(SHEAR)
    S, R = inp.S[0], inp.R[0]
    assert np.allclose(S, [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    assert np.allclose(R, [[0, 1, 0], [-1, 0, 0], [0, 0, 0]])
    assert np.allclose(turb.invariants(S, R), [2, -2, 0, 0, -2])
    T = turb.basis(S, R)
    assert T.shape == (10, 3, 3)
    expected = {
        0: S,
        1: np.diag([-2, 2, 0]),
        2: np.diag([1 / 3, 1 / 3, -2 / 3]),
        3: np.diag([-1 / 3, -1 / 3, 2 / 3]),
        4: np.zeros((3, 3)),
        5: -2 * S,
        6: np.diag([-2, 2, 0]),
        7: np.diag([-2, 2, 0]),
        8: np.diag([-2 / 3, -2 / 3, 4 / 3]),
        9: np.zeros((3, 3)),
    }
    for n, value in expected.items():
        assert np.allclose(T[n], value), f"T{n + 1}"


def test_pure_rotation_invariants_and_basis_by_hand():
    inp = _one(ROTATION)
    S, R = inp.S[0], inp.R[0]
    assert np.allclose(S, 0)
    assert np.allclose(turb.invariants(S, R), [0, -2, 0, 0, 0])
    T = turb.basis(S, R)
    assert np.allclose(T[3], np.diag([-1 / 3, -1 / 3, 2 / 3]))
    assert np.allclose(np.delete(T, 3, axis=0), 0)
    assert np.allclose(turb.LinearEddyViscosity().predict(inp.X), 0)


def test_basis_is_symmetric_traceless_and_the_same_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    inp = turb.normalised_tensors(rng.normal(size=(50, 3, 3)), np.ones(50), np.ones(50))
    T = turb.basis(inp.S, inp.R)
    assert np.allclose(T, np.swapaxes(T, -1, -2))
    assert np.allclose(turb.trace(T), 0, atol=1e-10)
    Tt = turb.basis(torch.tensor(inp.S), torch.tensor(inp.R)).numpy()
    assert np.allclose(T, Tt, rtol=1e-12, atol=1e-12)
    lam = turb.invariants(torch.tensor(inp.S), torch.tensor(inp.R)).numpy()
    assert np.allclose(lam, turb.invariants(inp.S, inp.R))


def test_normalisation_uses_k_over_epsilon_removes_the_trace_and_caps():
    inp = _one([[0.3, 2.0, 0], [0, 0, 0], [0, 0, 0]], k=2.0, eps=4.0)
    assert np.isclose(inp.S[0, 0, 1], 0.5)  # (k/eps) * dU/dy / 2
    assert np.isclose(turb.trace(inp.S[0]), 0)
    assert inp.capped == 0
    big = _one(SHEAR, k=100.0, eps=1.0)  # S12 = R12 = 100: capped to 7, direction kept
    assert big.capped == 1
    assert np.isclose(np.abs(np.linalg.eigvalsh(big.S[0])).max(), turb.CAP)
    assert np.isclose(big.R[0, 0, 1] / big.S[0, 0, 1], 1.0)
    assert _one(SHEAR, k=100.0, cap=None).capped == 0


@pytest.mark.parametrize("k, eps", [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0), (np.nan, 1.0)])
def test_normalisation_refuses_non_positive_k_or_epsilon(k, eps):
    with pytest.raises(ValueError, match="not positive"):
        _one(SHEAR, k=k, eps=eps)


def test_anisotropy_and_the_barycentric_corners():
    assert np.allclose(turb.anisotropy(np.eye(3)[None]), 0)
    one = turb.anisotropy(np.diag([2.0, 0, 0])[None])
    two = turb.anisotropy(np.diag([1.0, 1.0, 0])[None])
    three = turb.anisotropy(np.diag([1.0, 1.0, 1.0])[None])
    assert np.allclose(one, np.diag([2 / 3, -1 / 3, -1 / 3]))
    for b, corner in ((one, "1C"), (two, "2C"), (three, "3C")):
        assert np.allclose(turb.barycentric(b)[0], turb.CORNERS[corner])
    with pytest.raises(ValueError, match="no turbulent kinetic energy"):
        turb.anisotropy(np.zeros((2, 3, 3)))
    k = np.array([3.0])
    assert np.allclose(turb.reynolds_stress(one, k), np.diag([6.0, 0, 0]))


def test_realizability_check_and_projection():
    rng = np.random.default_rng(1)
    # realizable: from positive semi-definite stresses
    A = rng.normal(size=(200, 3, 3))
    good = turb.anisotropy(A @ np.swapaxes(A, 1, 2))
    assert turb.realizable(good).all()
    assert np.allclose(turb.project_realizable(good), good, atol=1e-12)
    bad = good * 3  # stretched beyond the triangle
    assert not turb.realizable(bad).all()
    p = turb.project_realizable(bad)
    assert turb.realizable(p, tol=1e-12).all()
    assert np.allclose(turb.trace(p), 0, atol=1e-12)
    assert np.allclose(turb.project_realizable(p), p, atol=1e-12)
    # nearest: no realizable tensor of the sample is closer than the projection
    dist_p = np.linalg.norm((p - bad).reshape(200, 9), axis=1)
    dist_good = np.linalg.norm((good - bad).reshape(200, 9), axis=1)
    assert (dist_p <= dist_good + 1e-12).all()
    # every realizable b lies inside the triangle (barycentric weights non-negative)
    xy = turb.barycentric(good)
    assert (xy[:, 1] >= -1e-12).all() and (xy[:, 1] <= np.sqrt(3) / 2 + 1e-12).all()


def test_levm_is_boussinesq_and_gives_no_duct_secondary_driver():
    rng = np.random.default_rng(2)
    G = np.zeros((20, 3, 3))
    G[:, 0, 1], G[:, 0, 2] = rng.normal(size=20), rng.normal(size=20)  # U(y, z)
    inp = turb.normalised_tensors(G, np.ones(20), np.ones(20))
    b = turb.LinearEddyViscosity().predict(inp.X)
    assert np.allclose(b, -turb.C_MU * inp.S)
    assert np.allclose(b[:, 1, 1] - b[:, 2, 2], 0)
    q = turb.QuadraticEddyViscosity().predict(inp.X)
    assert np.abs(q[:, 1, 1] - q[:, 2, 2]).max() > 1e-3
    levm = turb.LinearEddyViscosity()
    assert levm.fit(inp.X) is not None
    assert levm.fit(inp.X) is levm  # scikit-learn's shape: fit returns the estimator
    with pytest.raises(ValueError, match=r"\(n, 2, 3, 3\)"):
        turb.LinearEddyViscosity().predict(G)


def test_qevm_orders_a_channels_normal_stresses_like_dns():
    inp = _one([[0, 3.3, 0], [0, 0, 0], [0, 0, 0]])  # log-layer S k/eps
    b = turb.QuadraticEddyViscosity().predict(inp.X)[0]
    assert b[0, 0] > b[2, 2] > b[1, 1]  # uu > ww > vv
    assert b[0, 1] < 0
    assert np.isclose(turb.cls_c_mu(inp.S, inp.R)[0], 0.09, atol=0.01)
    # a constant c_mu reduces the linear part to LEVM's
    levm = turb.LinearEddyViscosity().predict(inp.X)[0]
    assert np.isclose(turb.QuadraticEddyViscosity(c_mu=0.09).predict(inp.X)[0, 0, 1], levm[0, 1])


def test_closures_rotate_with_the_flow():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    inp = turb.normalised_tensors(rng.normal(size=(30, 3, 3)), np.ones(30), np.ones(30))
    Q = Rotation.random(random_state=4).as_matrix()
    rotated = Q @ inp.X @ Q.T
    for model in (turb.LinearEddyViscosity(), turb.QuadraticEddyViscosity()):
        assert np.allclose(model.predict(rotated), Q @ model.predict(inp.X) @ Q.T)
