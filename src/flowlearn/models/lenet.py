"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition", section II.B): C1-S2-C3-S4-C5-F6-output on 32x32 inputs (MNIST padded by 2).

What is built, layer by layer, with its trainable parameters (paper's counts):

====  =====================================================  ==========
C1    6 maps 5x5 conv, 28x28                                        156
S2    6 maps 2x2 sum x trainable coefficient + bias, 14x14           12
C3    16 maps 5x5 conv over the paper's Table I (60 links)         1,516
S4    16 maps, as S2, 5x5                                            32
C5    120 maps 5x5 conv (full), 1x1                               48,120
F6    84 units                                                    10,164
out   10 units                                                       850
====  =====================================================  ==========

Total 60,850 (the paper: "only 60,000 trainable parameters"). Activations are the paper's
scaled tanh ``1.7159 tanh(2x/3)``. The one change: the paper's output is 10 Euclidean RBF units
with hand-set, fixed 84-vectors (840 numbers, no bias) trained with a MAP criterion; here it is a
linear layer (840 weights + 10 biases = 850) trained with cross-entropy, the form every
re-implementation uses. ``c3="full"`` connects every C3 map to all 6 S2 maps (2,416 parameters,
61,750 in all); ``subsampling="max"`` replaces S2/S4 by parameter-free max-pooling.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

#: Table I of the paper: the S2 maps each C3 map reads
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (0, 4, 5),
    (0, 1, 5),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (0, 3, 4, 5),
    (0, 1, 4, 5),
    (0, 1, 2, 5),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)
#: parameter counts of what LeNet5() builds, by layer (checked by the tests)
PAPER_COUNTS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164, "out": 850}


class ScaledTanh(nn.Module):
    """``A tanh(S x)`` with the paper's A = 1.7159, S = 2/3 (so f(1) = 1, f(-1) = -1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2/S4: the four inputs of each 2x2 block summed, times a trainable coefficient, plus a
    trainable bias, per map (2 parameters per map)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), 0.25))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = F.avg_pool2d(x, 2) * 4
        return summed * self.weight[:, None, None] + self.bias[:, None, None]


class SparseConv2d(nn.Module):
    """A 5x5 convolution whose output map ``j`` reads only the input maps ``table[j]``.

    Only the connected kernels are parameters (``weight`` holds 25 numbers per link), so
    ``sum(p.numel())`` is the paper's count; they are scattered into a dense kernel for the
    convolution.
    """

    def __init__(self, table: tuple[tuple[int, ...], ...], in_channels: int, k: int = 5) -> None:
        super().__init__()
        mask = torch.zeros(len(table), in_channels, dtype=torch.bool)
        for j, inputs in enumerate(table):
            mask[j, list(inputs)] = True
        self.register_buffer("mask", mask, persistent=False)
        self.k = k
        fan_in = mask.sum(1, keepdim=True).float() * k * k
        bound = (1.0 / fan_in[:, 0]).sqrt().repeat_interleave(mask.sum(1))
        n_links = int(mask.sum())
        self.weight = nn.Parameter((torch.rand(n_links, k, k) * 2 - 1) * bound[:, None, None])
        self.bias = nn.Parameter((torch.rand(len(table)) * 2 - 1) * (1.0 / fan_in[:, 0]).sqrt())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_c, in_c = self.mask.shape
        dense = self.weight.new_zeros(out_c, in_c, self.k, self.k)
        dense = dense.index_put((*self.mask.nonzero(as_tuple=True),), self.weight)
        return F.conv2d(x, dense, self.bias)


class LeNet5(nn.Module):
    """LeNet-5 for (N, 1, 28, 28) images (padded to 32x32 inside) -> (N, 10) logits.

    Args:
        c3: ``"table"`` (the paper's partial connections, 1,516 parameters) or ``"full"``.
        subsampling: ``"trainable"`` (the paper's S2/S4) or ``"max"`` (max-pooling, no parameters).
        num_classes: outputs (10 digits).
        pad_value: the background value 28x28 inputs are padded with to 32x32; the paper scales
            pixels so that the background is -0.1 and the ink 1.175 (:func:`paper_scaling`).
    """

    def __init__(
        self,
        c3: str = "table",
        subsampling: str = "trainable",
        num_classes: int = 10,
        pad_value: float = -0.1,
    ) -> None:
        super().__init__()
        if c3 not in ("table", "full"):
            raise ValueError(f"c3 {c3!r} unknown; choose 'table' or 'full'")
        if subsampling not in ("trainable", "max"):
            raise ValueError(f"subsampling {subsampling!r} unknown; choose 'trainable' or 'max'")

        def pool(channels: int) -> nn.Module:
            return Subsampling(channels) if subsampling == "trainable" else nn.MaxPool2d(2)

        self.C1 = nn.Conv2d(1, 6, 5)
        self.S2 = pool(6)
        self.C3 = SparseConv2d(C3_TABLE, 6) if c3 == "table" else nn.Conv2d(6, 16, 5)
        self.S4 = pool(16)
        self.C5 = nn.Conv2d(16, 120, 5)
        self.F6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, num_classes)
        self.act = ScaledTanh()
        self.pad_value = pad_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 28:
            x = F.pad(x, (2, 2, 2, 2), value=self.pad_value)
        x = self.act(self.S2(self.act(self.C1(x))))
        x = self.act(self.S4(self.act(self.C3(x))))
        x = self.act(self.C5(x)).flatten(1)
        return self.out(self.act(self.F6(x)))


def paper_scaling(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> the paper's range: background -0.1, ink 1.175 (mean ~0, variance ~1)."""
    return x * 1.275 - 0.1
