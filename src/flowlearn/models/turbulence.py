"""Learned turbulence closures: the Tensor Basis Neural Network and the plain MLP it is measured
against (Ling, Kurzawski & Templeton, J. Fluid Mech. 807, 2016).

Both map ``X`` ``(B, 2, 3, 3)``, the normalised strain and rotation tensors ``S`` and ``R``
(:func:`flowlearn.physics.turbulence.stack_inputs`), to the anisotropy ``b`` ``(B, 3, 3)``, so
one loss (the mean squared error of b) and one evaluation serve both.

- :class:`TBNN`: the five invariants of (S, R) -> hidden layers -> ten coefficients ``g_n`` ->
  ``b = sum_n g_n T_n / s_n`` over Pope's integrity basis, built from S and R divided by
  ``1 + sqrt(|S|^2 + |R|^2)`` (:func:`~flowlearn.physics.turbulence.bounded_basis`: the same
  family of closures, but one that cannot explode on a flow with larger gradients than any
  trained); a basis tensor absent from every training flow gets the coefficient 0
  (:func:`~flowlearn.physics.turbulence.basis_scales`). The invariants do not change when
  the frame rotates and every ``T_n`` rotates as a tensor, so the prediction rotates exactly
  with the flow (``Q b Q^T`` for ``Q S Q^T, Q R Q^T``), for any weights. ``s_n`` is each basis
  tensor's RMS size over the training cells: a fixed positive scale per tensor (so invariance is
  kept) that brings the fifth-order ``T_10`` and the first-order ``T_1`` to one size.
- :class:`MLPClosure`: an MLP straight to the five independent components of the traceless b.
  Its inputs are either the same five invariants (``inputs="invariants"``, Ling et al.'s MLP:
  it cannot know the frame, so it cannot tell b12 from -b12) or the eight independent components
  of S and R (``"components"``: knows the frame, so it depends on it and does not rotate with
  the flow). Its standardised inputs are clipped to the training range, as the invariants
  are.

Invariant features are ``sign(l) log(1 + |l| / m)`` (``m`` the median magnitude over the
training cells: near-wall invariants span decades), then standardised and clipped to the
training range, so that on an unseen flow the coefficients are those of the nearest trained
state rather than an extrapolation. The statistics are buffers, so they travel in the checkpoint
with the weights.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from flowlearn.physics import turbulence as turb

#: Independent components of S (traceless symmetric) and R (antisymmetric) fed to the
#: component MLP: S11 S12 S13 S22 S23, R12 R13 R23.
_S_PARTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2))
_R_PARTS = ((0, 1), (0, 2), (1, 2))


def _mlp(n_in: int, n_out: int, width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    size = n_in
    for _ in range(depth):
        layers += [nn.Linear(size, width), nn.SiLU()]
        size = width
    layers.append(nn.Linear(size, n_out))
    return nn.Sequential(*layers)


class _InvariantFeatures(nn.Module):
    """The five invariants of (S, R), log-compressed and standardised (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("magnitude", torch.ones(5, dtype=torch.float64))
        self.register_buffer("mean", torch.zeros(5, dtype=torch.float64))
        self.register_buffer("std", torch.ones(5, dtype=torch.float64))
        self.register_buffer("low", torch.full((5,), -torch.inf, dtype=torch.float64))
        self.register_buffer("high", torch.full((5,), torch.inf, dtype=torch.float64))

    def raw(self, X: torch.Tensor) -> torch.Tensor:
        S, R = turb.split_inputs(X)
        lam = turb.invariants(S, R)
        return torch.sign(lam) * torch.log1p(lam.abs() / self.magnitude.to(lam.dtype))

    @torch.no_grad()
    def fit(self, X: torch.Tensor) -> None:
        S, R = turb.split_inputs(X.double())
        lam = turb.invariants(S, R)
        # an invariant that is zero to rounding on every training cell (tr S^3 and tr R^2 S in
        # a single shear) stays a constant feature after the clipping below
        self.magnitude.copy_(lam.abs().median(0).values.clamp_min(1e-6))
        f = self.raw(X.double())
        self.mean.copy_(f.mean(0))
        self.std.copy_(f.std(0).clamp_min(1e-6))
        z = (f - self.mean) / self.std
        self.low.copy_(z.min(0).values)
        self.high.copy_(z.max(0).values)

    def standardised(self, X: torch.Tensor) -> torch.Tensor:
        f = self.raw(X)
        return (f - self.mean.to(f.dtype)) / self.std.to(f.dtype)

    @torch.no_grad()
    def outside(self, X: torch.Tensor) -> torch.Tensor:
        """True for cells with an invariant outside the range of the training cells."""
        z = self.standardised(X)
        return ((z < self.low.to(z.dtype)) | (z > self.high.to(z.dtype))).any(-1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        z = self.standardised(X)
        return torch.minimum(torch.maximum(z, self.low.to(z.dtype)), self.high.to(z.dtype))


def _traceless(parts: torch.Tensor) -> torch.Tensor:
    """b ``(B, 3, 3)`` from its five independent components b11 b12 b13 b22 b23."""
    b11, b12, b13, b22, b23 = parts.unbind(-1)
    b33 = -b11 - b22
    rows = [
        torch.stack([b11, b12, b13], -1),
        torch.stack([b12, b22, b23], -1),
        torch.stack([b13, b23, b33], -1),
    ]
    return torch.stack(rows, -2)


class TBNN(nn.Module):
    """Tensor Basis Neural Network (module docstring). ``width`` x ``depth`` hidden layers."""

    kind = "tbnn"

    def __init__(self, width: int = 64, depth: int = 4) -> None:
        super().__init__()
        self.width, self.depth = width, depth
        self.features = _InvariantFeatures()
        self.net = _mlp(5, 10, width, depth)
        self.register_buffer("basis_scale", torch.ones(10, dtype=torch.float64))
        self.register_buffer("basis_active", torch.ones(10, dtype=torch.float64))

    @torch.no_grad()
    def fit_normalisation(self, X: torch.Tensor) -> None:
        """Feature statistics and basis scales from the training inputs."""
        self.features.fit(X)
        S, R = turb.split_inputs(X.double())
        scale, active = turb.basis_scales(turb.bounded_basis(S, R).numpy())
        self.basis_scale.copy_(torch.from_numpy(scale))
        self.basis_active.copy_(torch.from_numpy(active.astype(float)))

    def outside(self, X: torch.Tensor) -> torch.Tensor:
        """True for cells whose invariants lie outside the trained range (where the network's
        coefficients are those of the nearest trained state: a trust signal)."""
        return self.features.outside(X)

    def coefficients(self, X: torch.Tensor) -> torch.Tensor:
        """``g_n / s_n`` ``(B, 10)``: the coefficients of the unscaled basis."""
        g = self.net(self.features(X).to(self.net[0].weight.dtype))
        return g.to(X.dtype) * (self.basis_active / self.basis_scale).to(X.dtype)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        S, R = turb.split_inputs(X)
        T = turb.bounded_basis(S, R)
        return torch.einsum("bn,bnij->bij", self.coefficients(X), T)


class MLPClosure(nn.Module):
    """Plain MLP closure (module docstring); ``inputs``: ``"invariants"`` or
    ``"components"``."""

    kind = "mlp"

    def __init__(
        self,
        width: int = 64,
        depth: int = 4,
        inputs: Literal["invariants", "components"] = "invariants",
    ) -> None:
        super().__init__()
        if inputs not in ("invariants", "components"):
            raise ValueError(f"inputs must be 'invariants' or 'components', got {inputs!r}")
        self.width, self.depth, self.inputs = width, depth, inputs
        n_in = 5 if inputs == "invariants" else len(_S_PARTS) + len(_R_PARTS)
        self.features = _InvariantFeatures() if inputs == "invariants" else None
        self.register_buffer("mean", torch.zeros(n_in, dtype=torch.float64))
        self.register_buffer("std", torch.ones(n_in, dtype=torch.float64))
        self.register_buffer("low", torch.full((n_in,), -torch.inf, dtype=torch.float64))
        self.register_buffer("high", torch.full((n_in,), torch.inf, dtype=torch.float64))
        self.net = _mlp(n_in, 5, width, depth)

    def _components(self, X: torch.Tensor) -> torch.Tensor:
        S, R = turb.split_inputs(X)
        parts = [S[..., i, j] for i, j in _S_PARTS] + [R[..., i, j] for i, j in _R_PARTS]
        return torch.stack(parts, -1)

    @torch.no_grad()
    def fit_normalisation(self, X: torch.Tensor) -> None:
        if self.features is not None:
            self.features.fit(X)
            return
        c = self._components(X.double())
        self.mean.copy_(c.mean(0))
        self.std.copy_(c.std(0).clamp_min(1e-6))
        z = (c - self.mean) / self.std
        self.low.copy_(z.min(0).values)
        self.high.copy_(z.max(0).values)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.features is not None:
            z = self.features(X)
        else:
            c = self._components(X)
            z = (c - self.mean.to(c.dtype)) / self.std.to(c.dtype)
            z = torch.minimum(torch.maximum(z, self.low.to(z.dtype)), self.high.to(z.dtype))
        out = self.net(z.to(self.net[0].weight.dtype)).to(X.dtype)
        return _traceless(out)


def build(kind: str, width: int, depth: int) -> nn.Module:
    """A closure network by name: ``"tbnn"``, ``"mlp"`` (invariant inputs) or
    ``"mlp-components"``."""
    if kind == "tbnn":
        return TBNN(width, depth)
    if kind == "mlp":
        return MLPClosure(width, depth, "invariants")
    if kind == "mlp-components":
        return MLPClosure(width, depth, "components")
    raise ValueError(f"closure network {kind!r} unknown; choose tbnn, mlp or mlp-components")
