"""A network that advances a chemical state by one step, with its variable transforms inside.

:class:`ChemistryNetwork` owns the whole map from a physical state to the next one, so that
training, rollouts and the ONNX file a CFD code calls apply the same transforms:

- **features** ``z``: temperature, ``log p`` and the Box-Cox transform of every mass fraction
  (``(Y^λ - 1) / λ``, λ = 0.1: close to ``log Y`` for the trace radicals that decide an
  ignition, without its singularity at zero; Ding et al. 2021, Zhang et al. 2022), each
  normalised by the training mean and standard deviation;
- **output**: the increment over the step of temperature and of the Box-Cox mass fractions,
  normalised (an increment, not the next state: over 1 µs the state barely moves
  and a network predicting the state itself would spend its accuracy copying it);
- :meth:`~ChemistryNetwork.step` adds the increment in float64 (a float32 temperature near
  2,000 K resolves 1e-4 K, the size of a whole step's change during the induction), inverts the
  Box-Cox, clips mass fractions at zero and renormalises them to sum one; optionally projects
  them onto the element composition of the input state (``element_matrix``) before that, and
  takes the temperature from the conservation of the mixture's enthalpy (adiabatic, constant
  pressure: ``h(T', Y') = h(T, Y)``, NASA-7 polynomials, Newton from the network's guess)
  instead of the network's increment. With both, a rolled-out state stays on the physical
  subspace: its elements are the mixture's and its temperature its adiabatic one.

The network itself is an :class:`~flowlearn.models.mlp.MLP` in float32; the transforms and their
statistics are float64 buffers, saved with the weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from flowlearn.models.mlp import MLP

#: Universal gas constant, J / (kmol K), as the NASA polynomials' mass units need.
GAS_CONSTANT = 8314.462618
#: Box-Cox exponent of the mass fractions.
BOXCOX = 0.1
#: Smallest standard deviation an increment is divided by (an inert species' increment is zero
#: to round-off).
STD_FLOOR = 1e-10
#: A feature whose spread over the training data is below this is constant (a species never
#: present, e.g. argon in h2o2's air): it is centred, not scaled, so that a trace of it at
#: inference is not amplified by the inverse of a vanishing spread.
FEATURE_FLOOR = 1e-3


# Powers as exp(log): ONNX runtimes evaluate Pow of doubles in single precision.
def boxcox(Y: torch.Tensor, lam: float = BOXCOX) -> torch.Tensor:
    return (torch.exp(lam * torch.log(Y.clamp_min(0.0))) - 1.0) / lam


def boxcox_inverse(B: torch.Tensor, lam: float = BOXCOX) -> torch.Tensor:
    return torch.exp(torch.log((lam * B + 1.0).clamp_min(0.0)) / lam)


class ChemistryNetwork(nn.Module):
    """Advances ``(T, p, Y)`` by the step it was trained on.

    Args:
        n_species: species of the mechanism (10 for h2o2, 53 for gri30).
        width: hidden width (128 is a good start for gri30; 64 suffices for h2o2).
        depth: hidden layers (3).
        elements: ``E`` ``(n_elements, n_species)`` with ``E @ Y`` the element mass fractions;
            given, :meth:`step` can conserve them (``conserve=True``).
        thermo: the mechanism's :class:`~flowlearn.physics.chemistry.Nasa7`; given,
            :meth:`step` can conserve the enthalpy (``conserve=True``).

    Shapes: :meth:`forward` ``(B, 2 + S) -> (B, 1 + S)`` normalised features to normalised
    increments (what is trained); :meth:`step` ``(B, 2 + S) -> (B, 1 + S)``: ``[T K, p Pa,
    Y...]`` to ``[T, Y...]`` one step later, float64.
    """

    def __init__(
        self,
        n_species: int,
        width: int = 128,
        depth: int = 3,
        elements: np.ndarray | None = None,
        thermo: Any = None,
    ) -> None:
        super().__init__()
        if n_species < 1 or width < 1 or depth < 1:
            raise ValueError(f"n_species {n_species}, width {width}, depth {depth} must be >= 1")
        self.n_species = n_species
        self.net = MLP(2 + n_species, [width] * depth, 1 + n_species, activation="gelu")
        f64 = torch.float64
        self.register_buffer("in_mean", torch.zeros(2 + n_species, dtype=f64))
        self.register_buffer("in_std", torch.ones(2 + n_species, dtype=f64))
        self.register_buffer("out_mean", torch.zeros(1 + n_species, dtype=f64))
        self.register_buffer("out_std", torch.ones(1 + n_species, dtype=f64))
        e = np.zeros((0, n_species)) if elements is None else np.asarray(elements, float)
        if e.shape[1] != n_species:
            raise ValueError(f"element matrix has {e.shape[1]} species, not {n_species}")
        e = e[np.abs(e).sum(axis=1) > 0]  # an element no species holds constrains nothing
        self.register_buffer("elements", torch.tensor(e, dtype=f64))
        if thermo is None:
            t_mid, low, high, W = np.zeros(n_species), np.zeros((n_species, 7)), None, None
            high, W = low, np.ones(n_species)
        else:
            t_mid, low, high, W = thermo.t_mid, thermo.low, thermo.high, thermo.W
        self.has_thermo = thermo is not None
        self.register_buffer("t_mid", torch.tensor(np.asarray(t_mid), dtype=f64))
        self.register_buffer("nasa_low", torch.tensor(np.asarray(low), dtype=f64))
        self.register_buffer("nasa_high", torch.tensor(np.asarray(high), dtype=f64))
        self.register_buffer("weights", torch.tensor(np.asarray(W), dtype=f64))

    # ------------------------------------------------------------------------ transforms
    @staticmethod
    def raw_features(state: torch.Tensor) -> torch.Tensor:
        """``[T, p, Y...] -> [T, log p, boxcox(Y)...]`` (float64)."""
        state = state.to(torch.float64)
        return torch.cat([state[:, :1], torch.log(state[:, 1:2]), boxcox(state[:, 2:])], dim=1)

    @staticmethod
    def raw_increments(state: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        """``[T' - T, boxcox(Y') - boxcox(Y)]`` of a state and its successor ``[T', Y'...]``."""
        state, nxt = state.to(torch.float64), nxt.to(torch.float64)
        dT = nxt[:, :1] - state[:, :1]
        return torch.cat([dT, boxcox(nxt[:, 1:]) - boxcox(state[:, 2:])], dim=1)

    @torch.no_grad()
    def fit_normalisation(self, states: torch.Tensor, successors: torch.Tensor) -> None:
        """Set the feature and increment statistics from training pairs."""
        f = self.raw_features(states)
        d = self.raw_increments(states, successors)
        self.in_mean.copy_(f.mean(0))
        std = f.std(0)
        self.in_std.copy_(torch.where(std < FEATURE_FLOOR, torch.ones_like(std), std))
        self.out_mean.copy_(d.mean(0))
        self.out_std.copy_(d.std(0).clamp_min(STD_FLOOR))

    def features(self, state: torch.Tensor) -> torch.Tensor:
        """Normalised features, float32: the network's input."""
        return ((self.raw_features(state) - self.in_mean) / self.in_std).to(torch.float32)

    def targets(self, state: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        """Normalised increments, float32: what the network is trained to output."""
        d = self.raw_increments(state, nxt)
        return ((d - self.out_mean) / self.out_std).to(torch.float32)

    # --------------------------------------------------------------------------- maps
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def increments(self, state: torch.Tensor) -> torch.Tensor:
        """Physical increments ``[dT, d boxcox(Y)...]`` (float64) of ``state``."""
        return self.decode(self.net(self.features(state)))

    def decode(self, out: torch.Tensor) -> torch.Tensor:
        """Physical increments from the network's (normalised) output."""
        return out.to(torch.float64) * self.out_std + self.out_mean

    def apply(self, state: torch.Tensor, increments: torch.Tensor, conserve: bool = False):
        """The next state ``[T, Y...]`` from a state and its (possibly ensemble-mean)
        increments: Box-Cox inverted, clipped at zero, renormalised; with ``conserve``, the
        elements and the enthalpy of the input state kept (see the module docstring)."""
        state = state.to(torch.float64)
        T = state[:, :1] + increments[:, :1]
        Y = boxcox_inverse(boxcox(state[:, 2:]) + increments[:, 1:])
        if conserve and self.elements.numel():
            Y = self._conserve(Y, state[:, 2:])
        Y = Y.clamp_min(0.0)
        Y = Y / Y.sum(dim=1, keepdim=True)
        if conserve and self.has_thermo:
            T = self.temperature(self.enthalpy(state[:, :1], state[:, 2:]), Y, T)
        return torch.cat([T, Y], dim=1)

    def _species(self, T: torch.Tensor, powers: torch.Tensor, low, high) -> torch.Tensor:
        """Per-species polynomials ``(B, S)``: the powers of T ``(B, k)`` times each range's
        coefficients ``(S, k)``, the range chosen by T against each species' ``t_mid``."""
        return torch.where(T > self.t_mid, powers @ high.T, powers @ low.T)

    def enthalpy(self, T: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Mixture mass enthalpy (J/kg) at ``T (B, 1)``, ``Y (B, S)``: ``(B, 1)``."""
        powers = torch.cat([T, T**2 / 2, T**3 / 3, T**4 / 4, T**5 / 5, torch.ones_like(T)], 1)
        h = self._species(T, powers, self.nasa_low[:, :6], self.nasa_high[:, :6])
        return (Y * h * (GAS_CONSTANT / self.weights)).sum(1, keepdim=True)

    def heat_capacity(self, T: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """Mixture mass heat capacity at constant pressure (J/kg/K): ``(B, 1)``."""
        powers = torch.cat([torch.ones_like(T), T, T**2, T**3, T**4], 1)
        cp = self._species(T, powers, self.nasa_low[:, :5], self.nasa_high[:, :5])
        return (Y * cp * (GAS_CONSTANT / self.weights)).sum(1, keepdim=True)

    def temperature(
        self, h: torch.Tensor, Y: torch.Tensor, guess: torch.Tensor, iterations: int = 3
    ) -> torch.Tensor:
        """The temperature (K) at which the mixture ``Y`` has the enthalpy ``h``: Newton from
        ``guess`` (the network's temperature: within a few K, so a few iterations converge
        to round-off; cp > 0 makes h monotonic in T)."""
        T = guess.clamp(200.0, 6000.0)
        for _ in range(iterations):
            T = T - (self.enthalpy(T, Y) - h) / self.heat_capacity(T, Y)
        return T

    def _conserve(self, Y: torch.Tensor, Y0: torch.Tensor) -> torch.Tensor:
        """The smallest change of ``Y`` restoring the element mass fractions of ``Y0``, each
        species moved in proportion to its mass fraction (trace species stay non-negative):
        ``dY = -W E^T (E W E^T)^-1 gap``, ``W = diag(Y)``. Rows that are not finite (a
        diverged rollout) are left alone. Written without data-dependent branches, so that it
        exports to ONNX."""
        E = self.elements
        ok = (torch.isfinite(Y).all(1) & torch.isfinite(Y0).all(1))[:, None]
        y, y0 = torch.nan_to_num(Y), torch.nan_to_num(Y0)
        gap = (y - y0) @ E.T
        W = y.clamp_min(1e-12)
        M = (W[:, None, :] * E) @ E.T  # E W E^T, (B, n, n) (einsum pins torch.export's batch)
        ridge = 1e-12 * M.diagonal(dim1=1, dim2=2).sum(1)[:, None, None] + 1e-30
        lam = _solve(M + ridge * torch.eye(len(E), dtype=M.dtype), gap)
        return torch.where(ok, y - W * (lam @ E), Y)

    def step(self, state: torch.Tensor, conserve: bool = False) -> torch.Tensor:
        """``[T, p, Y...]`` ``(B, 2 + S)`` to ``[T, Y...]`` one step later (float64)."""
        return self.apply(state, self.increments(state), conserve)


def _solve(M: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``M x = b`` for a batch of small symmetric positive definite systems ``(B, n, n)``,
    ``(B, n)``: Gaussian elimination unrolled over ``n`` (at most the five elements of GRI-Mech),
    because ONNX has no linear-solve operator."""
    n = M.shape[1]
    A = [[M[:, i, j] for j in range(n)] for i in range(n)]
    x = [b[:, i] for i in range(n)]
    for k in range(n):
        for i in range(k + 1, n):
            f = A[i][k] / A[k][k]
            for j in range(k, n):
                A[i][j] = A[i][j] - f * A[k][j]
            x[i] = x[i] - f * x[k]
    out: list[torch.Tensor] = [b[:, 0]] * n
    for i in reversed(range(n)):
        acc = x[i]
        for j in range(i + 1, n):
            acc = acc - A[i][j] * out[j]
        out[i] = acc / A[i][i]
    return torch.stack(out, dim=1)


class StepModule(nn.Module):
    """``ChemistryNetwork.step`` as a module's ``forward`` (the ONNX export's graph)."""

    def __init__(self, network: ChemistryNetwork, conserve: bool = False) -> None:
        super().__init__()
        self.network = network
        self.conserve = conserve

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.network.step(state, self.conserve)
