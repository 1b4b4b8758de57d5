"""Flow surrogates: steady 2-D laminar flow around an obstacle from its signed distance function.

Shape contract shared by both models: input ``(B, C_in, H, W)`` on the channel grid (``H = ny``
rows, ``W = nx`` columns; ``W = 2H`` is typical, e.g. 32x64 ... 128x256, but not assumed), with
channels already normalised by the caller:

- 0: signed distance function (SDF) of the obstacle,
- 1: fluid/solid mask (1 inside the body),
- 2: Reynolds number as a constant map (:class:`FlowUNet` reads it; :class:`GuoCNN` does not by
  default, as in the paper).

Output ``(B, out_channels, H, W)``: the normalised fields ``u, v, p`` in that order. Predictions
are returned raw, the body's interior included: zeroing it (or masking the loss) is the
caller's choice. ``H`` and ``W`` must be multiples of the model's ``grid_multiple`` (8 for the
defaults); ``forward`` raises a ``ValueError`` naming the shape otherwise.

- :class:`GuoCNN`: Guo, Li & Iorio, "Convolutional neural networks for steady flow
  approximation", KDD 2016 — strided-convolution encoder, fully connected bottleneck, one
  deconvolution decoder per output component.
- :class:`FlowUNet`: a U-Net (Ronneberger, Fischer & Brox, MICCAI 2015) with one shared encoder
  and one decoder per field, each reading the encoder's skip connections, as in DeepCFD (Ribeiro,
  Rehman, Ahmed & Dengel, "DeepCFD: efficient steady-state laminar flow approximation with deep
  convolutional neural networks", arXiv:2004.08826, 2020).

- :class:`FlowUNet` with ``attention > 0``: multi-head self-attention over the cells of the
  bottleneck (every coarse cell sees the whole body and its wake, as a transformer layer does;
  Oktay et al. 2018, Petit et al. 2021 use attention in U-Nets the same way).
- :class:`FlowFNO`: a Fourier neural operator (Li et al., ICLR 2021) from the maintained
  ``neuraloperator`` library (``pip install "flowlearn[operators]"``), padded so that its
  periodic Fourier layers see a channel that is not periodic.

The convolutional models export to ONNX (see :mod:`flowlearn.models.onnx`): the only Python
branch in ``forward`` is the shape check, and upsampling is done by ``ConvTranspose2d``.
"""

from __future__ import annotations

import torch
from torch import nn


def _check_input(
    x: torch.Tensor,
    name: str,
    in_channels: int,
    multiple: int,
    grid: tuple[int, int] | None = None,
) -> None:
    """Raise a ``ValueError`` naming the shape and the limit if ``x`` does not fit the model."""
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(
            f"{name} expects input of shape (B, {in_channels}, H, W), got {tuple(x.shape)}"
        )
    h, w = x.shape[-2], x.shape[-1]
    if grid is not None and (h, w) != grid:
        raise ValueError(
            f"{name} was built for grid (H, W) = {grid} (its fully connected bottleneck fixes "
            f"it), got input of shape {tuple(x.shape)}: build it with grid=({h}, {w}), "
            "or grid=None for a fully convolutional bottleneck"
        )
    if h % multiple or w % multiple:
        raise ValueError(
            f"{name} needs H and W to be multiples of {multiple}, got input of shape "
            f"{tuple(x.shape)} (H = {h}, W = {w}): pad or crop the grid"
        )


# --------------------------------------------------------------------------------------------
# Guo, Li & Iorio 2016


class GuoCNN(nn.Module):
    """The CNN baseline of Guo, Li & Iorio (KDD 2016): ``(B, in_channels, H, W) -> (B,
    out_channels, H, W)``.

    The paper's structure at a smaller scale: an encoder of three strided convolutions (4x4,
    stride 2, ReLU; ``width``, ``2 width``, ``4 width`` channels, so H and W shrink by
    ``grid_multiple = 8``), a bottleneck at the coarsest level, and a *separate* decoder of three
    transposed convolutions per output component (u, v, p), the last one linear. The paper
    used large kernels on a 256x128 grid; the layer sizes here are scaled to the 32x64-128x256
    grids of flowlearn.

    The bottleneck: a 1x1 convolution to ``code_channels`` maps, then, when ``grid`` is given,
    a fully connected layer of ``bottleneck`` units and back (the paper's global layer: every
    output cell sees the whole shape), which fixes the grid to ``grid``; with ``grid=None`` two
    1x1 convolutions (``bottleneck`` channels) replace it and any grid that is a multiple of 8
    is accepted, at the cost of a receptive field of about 40 cells.

    ``in_channels=2`` reads the SDF and the mask, not the Reynolds number (the paper's models
    are trained at one Re): pass ``x[:, :2]``, or ``in_channels=3`` to add Re. Defaults (width
    32, bottleneck 256, code 8) have about 0.81 M parameters at ``grid=(64, 128)``; ``width=16,
    bottleneck=128`` (about 0.3 M) is a good small start.
    """

    grid_multiple: int = 8

    def __init__(
        self,
        in_channels: int = 2,
        out_channels: int = 3,
        width: int = 32,
        bottleneck: int = 256,
        grid: tuple[int, int] | None = (64, 128),
        code_channels: int = 8,
    ) -> None:
        super().__init__()
        for label, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("width", width),
            ("bottleneck", bottleneck),
            ("code_channels", code_channels),
        ):
            if value < 1:
                raise ValueError(f"GuoCNN {label} = {value} must be at least 1")
        if grid is not None:
            grid = (int(grid[0]), int(grid[1]))
            if grid[0] % self.grid_multiple or grid[1] % self.grid_multiple or min(grid) < 1:
                raise ValueError(
                    f"GuoCNN grid (H, W) = {grid}: H and W must be positive multiples of "
                    f"{self.grid_multiple}"
                )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.grid = grid

        def down(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]

        self.encoder = nn.Sequential(
            *down(in_channels, width),
            *down(width, 2 * width),
            *down(2 * width, 4 * width),
            nn.Conv2d(4 * width, code_channels, 1),
            nn.ReLU(),
        )
        if grid is None:
            self.bottleneck: nn.Module = nn.Sequential(
                nn.Conv2d(code_channels, bottleneck, 1),
                nn.ReLU(),
                nn.Conv2d(bottleneck, code_channels, 1),
                nn.ReLU(),
            )
        else:
            coarse = (grid[0] // self.grid_multiple, grid[1] // self.grid_multiple)
            n_code = code_channels * coarse[0] * coarse[1]
            self.bottleneck = nn.Sequential(
                nn.Flatten(1),
                nn.Linear(n_code, bottleneck),
                nn.ReLU(),
                nn.Linear(bottleneck, n_code),
                nn.ReLU(),
                nn.Unflatten(1, (code_channels, *coarse)),
            )

        def decoder() -> nn.Sequential:
            return nn.Sequential(
                nn.ConvTranspose2d(code_channels, 2 * width, 4, stride=2, padding=1),
                nn.ReLU(),
                nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
                nn.ReLU(),
                nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
            )

        self.decoders = nn.ModuleList(decoder() for _ in range(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, H, W) -> (B, out_channels, H, W)``; H, W multiples of 8."""
        _check_input(x, "GuoCNN", self.in_channels, self.grid_multiple, self.grid)
        code = self.bottleneck(self.encoder(x))
        return torch.cat([decoder(code) for decoder in self.decoders], dim=1)


# --------------------------------------------------------------------------------------------
# U-Net with one decoder per field (DeepCFD)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    # Groups of about 4 channels, at most 8 groups: batch-independent, so batch 1 inference and
    # training agree (batch norm's running statistics do not).
    groups = next(g for g in range(min(8, max(1, channels // 4)), 0, -1) if channels % g == 0)
    return nn.GroupNorm(groups, channels)


class _ConvBlock(nn.Sequential):
    """(Conv 3x3 - norm - GELU) x 2, then spatial dropout when ``dropout > 0``."""

    def __init__(self, c_in: int, c_out: int, norm: str, dropout: float) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            _norm(norm, c_out),
            nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            _norm(norm, c_out),
            nn.GELU(),
            nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
        )


class _FieldDecoder(nn.Module):
    """One field's decoder: from the bottom of the shared encoder up to full resolution, a
    2x2 transposed convolution, concatenation with the encoder's skip, a conv block per level,
    then a 1x1 head to one channel."""

    def __init__(
        self, enc_channels: list[int], dec_channels: list[int], norm: str, dropout: float
    ) -> None:
        super().__init__()
        ups, blocks = [], []
        c = enc_channels[-1]
        for level in reversed(range(len(enc_channels) - 1)):
            d = dec_channels[level]
            ups.append(nn.ConvTranspose2d(c, d, 2, stride=2))
            blocks.append(_ConvBlock(enc_channels[level] + d, d, norm, dropout))
            c = d
        self.ups = nn.ModuleList(ups)
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c, 1, 1)

    def forward(self, bottom: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        h = bottom
        for up, block, skip in zip(self.ups, self.blocks, reversed(skips), strict=True):
            h = block(torch.cat([up(h), skip], dim=1))
        return self.head(h)


class _BottleneckAttention(nn.Module):
    """A pre-norm transformer layer over the ``h x w`` cells of a feature map: a depth-wise 3x3
    convolution adds each cell's position (any grid size, no table), then multi-head
    self-attention and an MLP, each with a residual."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"attention heads {heads} must divide the {channels} channels")
        self.position = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.norm1 = nn.LayerNorm(channels)
        self.attend = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, 2 * channels), nn.GELU(), nn.Linear(2 * channels, channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        x = x + self.position(x)
        t = x.flatten(2).transpose(1, 2)  # (B, h w, C)
        q = self.norm1(t)
        t = t + self.attend(q, q, q, need_weights=False)[0]
        t = t + self.mlp(self.norm2(t))
        return t.transpose(1, 2).reshape(b, c, h, w)


class FlowUNet(nn.Module):
    """U-Net flow surrogate with one shared encoder and one decoder per field (DeepCFD,
    Ribeiro et al. 2020): ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.

    Encoder: a conv block (two 3x3 Conv-norm-GELU) at full resolution with ``base`` channels,
    then ``depth`` levels of 2x2 max-pooling and a conv block doubling the channels, so H and W
    must be multiples of ``grid_multiple = 2 ** depth``. Each of the ``out_channels`` decoders
    (u, v, p) climbs back with 2x2 transposed convolutions and conv blocks that read the shared
    encoder's skip connections; a decoder has half the encoder's channels at each level (three
    of them share the work) and ends in a 1x1 convolution. The fields are concatenated, raw.

    ``in_channels=3``: SDF, mask and Reynolds number. ``norm``: ``"group"`` (default,
    independent of the batch) or ``"batch"``. ``dropout``: spatial dropout probability after
    every conv block, 0 (default) to 0.2 is sensible. ``attention``: heads of a transformer
    layer over the bottleneck's cells (0, the default: none). ``base=16, depth=3`` (the default)
    has about 0.50 M parameters at any grid, ``base=32`` about 1.98 M; ``depth=4`` quadruples
    them; attention adds about ``12 (8 base)**2`` at ``depth=3``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base: int = 16,
        depth: int = 3,
        norm: str = "group",
        dropout: float = 0.0,
        attention: int = 0,
    ) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"FlowUNet in_channels = {in_channels} and out_channels = {out_channels} must "
                "be at least 1"
            )
        if base < 2:
            raise ValueError(f"FlowUNet base = {base} must be at least 2 (16-32 is typical)")
        if not 1 <= depth <= 6:
            raise ValueError(f"FlowUNet depth = {depth} must be in 1..6 (3 or 4 is typical)")
        if norm not in ("group", "batch"):
            raise ValueError(f"FlowUNet norm {norm!r} unknown: 'group' or 'batch'")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"FlowUNet dropout = {dropout} must be in [0, 1)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.grid_multiple: int = 2**depth

        enc = [base * 2**level for level in range(depth + 1)]
        dec = [max(1, c // 2) for c in enc]
        stages: list[nn.Module] = [_ConvBlock(in_channels, enc[0], norm, dropout)]
        for level in range(1, depth + 1):
            block = _ConvBlock(enc[level - 1], enc[level], norm, dropout)
            stages.append(nn.Sequential(nn.MaxPool2d(2), block))
        self.encoder = nn.ModuleList(stages)
        self.decoders = nn.ModuleList(
            _FieldDecoder(enc, dec, norm, dropout) for _ in range(out_channels)
        )
        if attention < 0:
            raise ValueError(f"FlowUNet attention = {attention} heads must be >= 0")
        self.attention = _BottleneckAttention(enc[-1], attention) if attention else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, H, W) -> (B, out_channels, H, W)``; H, W multiples of
        ``grid_multiple``."""
        _check_input(x, "FlowUNet", self.in_channels, self.grid_multiple)
        skips = []
        h = x
        for stage in self.encoder:
            h = stage(h)
            skips.append(h)
        bottom = skips.pop()
        if self.attention is not None:
            bottom = self.attention(bottom)
        return torch.cat([decoder(bottom, skips) for decoder in self.decoders], dim=1)


# --------------------------------------------------------------------------------------------
# Fourier neural operator (neuraloperator)


class FlowFNO(nn.Module):
    """A Fourier neural operator (Li, Kovachki, Azizzadenesheli et al., "Fourier neural
    operator for parametric partial differential equations", ICLR 2021) from the
    ``neuraloperator`` library: ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.

    ``width`` hidden channels, ``layers`` Fourier layers keeping ``modes = (my, mx)`` modes
    (default: a quarter of each side, at most 16), the library's grid positional embedding,
    and 25 % zero padding on every side: a Fourier layer is periodic, the channel is not
    (inlet and outlet, walls). Any H, W multiple of ``grid_multiple`` = 8 runs, and the modes
    do not depend on the grid: the same weights read a finer grid. Raises ``ImportError`` with
    the install command when the library is missing.
    """

    grid_multiple: int = 8

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        width: int = 32,
        layers: int = 4,
        modes: tuple[int, int] = (8, 16),
    ) -> None:
        super().__init__()
        try:
            from neuralop.models import FNO
        except ImportError as exc:
            raise ImportError(
                'the FNO needs the neuraloperator library: pip install "flowlearn[operators]"'
            ) from exc
        if min(in_channels, out_channels, width, layers, *modes) < 1:
            raise ValueError(
                f"FlowFNO in_channels {in_channels}, out_channels {out_channels}, width {width}, "
                f"layers {layers} and modes {modes} must be at least 1"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.fno = FNO(
            n_modes=tuple(int(m) for m in modes),
            in_channels=in_channels,
            out_channels=out_channels,
            hidden_channels=width,
            n_layers=layers,
            domain_padding=0.25,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, "FlowFNO", self.in_channels, self.grid_multiple)
        return self.fno(x.contiguous())

    def state_dict(self, *args, **kwargs):  # type: ignore[override]
        """The weights alone: neuraloperator adds a ``_metadata`` entry of its constructor's
        arguments (a Python function among them) that a safetensors checkpoint cannot hold
        and that the constructor here rebuilds anyway."""
        out = super().state_dict(*args, **kwargs)
        out.pop("_metadata", None)
        return out
