"""Super-resolution of flow fields around a body: generators that upsample a coarse field by a
power of two, and discriminators to train them adversarially.

Fields are ``(N, C, H, W)`` (``C = 3``: u, v, p, already normalised; H rows along y, W columns
along x). The body is known at the fine resolution as one extra channel ``geo`` ``(N, 1, H, W)``
(a scaled signed distance, negative inside the body). A coarse field is ``(N, 3, H/s, W/s)``
for the scale ``s`` (2, 4 or 8; any power of two >= 2).

Every generator predicts a correction to the bicubic upsample of the coarse field,
``bicubic(coarse, s) + net(coarse, geo)``, and has a :meth:`zero_last` that zeroes its last
convolution so that training starts from bicubic exactly. Masking of the solid cells is left to
the caller.

- :class:`SRCNN` (Dong, Loy, He & Tang, ECCV 2014 / TPAMI 2016): three convolutions at the fine
  resolution on the bicubic upsample and the geometry.
- :class:`SRResNet`, the generator of SRGAN (Ledig et al., CVPR 2017): residual blocks at the
  coarse resolution, the geometry pixel-unshuffled, then pixel-shuffle upsampling.
- :class:`SRDiscriminator`, SRGAN's discriminator made size-agnostic (global average pooling):
  one logit per field, judged together with its body.
- :class:`PatchDiscriminator`, pix2pix's PatchGAN (Isola, Zhu, Zhou & Efros, CVPR 2017): one
  logit per patch of :attr:`~PatchDiscriminator.receptive_field` pixels.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _check_scale(scale: int) -> int:
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int)
        or scale < 2
        or scale & (scale - 1) != 0
    ):
        raise ValueError(f"scale must be a power of two >= 2, got {scale!r}")
    return scale


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} = {value}: at least 1")


def _check_fields(fields: torch.Tensor, channels: int, what: str = "field") -> None:
    if fields.ndim != 4:
        raise ValueError(f"{what} must be (N, C, H, W), got shape {tuple(fields.shape)}")
    if fields.shape[1] != channels:
        raise ValueError(f"expected {channels} field channels, got {fields.shape[1]}")


def _check_geo(geo: torch.Tensor) -> None:
    if geo.ndim != 4:
        raise ValueError(f"geometry must be (N, 1, H, W), got shape {tuple(geo.shape)}")
    if geo.shape[1] != 1:
        raise ValueError(f"expected 1 geometry channel, got {geo.shape[1]}")


def _check_pair(coarse: torch.Tensor, geo: torch.Tensor, channels: int, scale: int) -> None:
    """A coarse field ``(N, channels, h, w)`` and its fine geometry ``(N, 1, h*s, w*s)``."""
    _check_fields(coarse, channels, "coarse field")
    _check_geo(geo)
    if coarse.shape[0] != geo.shape[0]:
        raise ValueError(f"coarse and geo batch sizes differ: {coarse.shape[0]} and {geo.shape[0]}")
    h, w = coarse.shape[-2:]
    fh, fw = geo.shape[-2:]
    if (fh, fw) != (h * scale, w * scale):
        raise ValueError(
            f"geometry {fh}x{fw} is not x{scale} the coarse field's {h}x{w} "
            f"(expected {h * scale}x{w * scale})"
        )


def bicubic(coarse: torch.Tensor, scale: int) -> torch.Tensor:
    """``coarse`` ``(N, C, h, w)`` upsampled to ``(N, C, h*s, w*s)``: ``F.interpolate``, bicubic,
    ``align_corners=False`` (cell centres; PyTorch's cubic convolution, a = -0.75, with the
    edge rows and columns repeated). Reproduces constants everywhere, but linear ramps only to
    within ``t (t - 1) (2 t - 1) / 2`` coarse cells (``t`` the fractional coarse coordinate; at
    most 0.048 cells) away from the two outermost coarse cells of each edge: exact reproduction
    of ramps needs Keys's a = -0.5, which ``F.interpolate`` does not offer."""
    _check_scale(scale)
    if coarse.ndim != 4:
        raise ValueError(f"coarse field must be (N, C, H, W), got shape {tuple(coarse.shape)}")
    return F.interpolate(coarse, scale_factor=scale, mode="bicubic", align_corners=False)


def _same_conv(c_in: int, c_out: int, kernel: int, bias: bool = True) -> nn.Conv2d:
    """A stride-1 convolution that keeps the size, padding by replicating the edge (a flow field
    continues past the domain's edge more like itself than like zero)."""
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel size {kernel} must be odd for 'same' padding")
    return nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, padding_mode="replicate", bias=bias)


class SRCNN(nn.Module):
    """Dong, Loy, He & Tang (ECCV 2014 / TPAMI 2016): three convolutions (patch extraction
    9x9, non-linear mapping 1x1, reconstruction 5x5) on the bicubic upsample; here with the
    fine geometry as an extra input channel and predicting the residual over bicubic.

    ``coarse`` ``(N, channels, h, w)``, ``geo`` ``(N, 1, h*s, w*s)`` ->
    ``(N, channels, h*s, w*s)``. Widths ``(32, 16)`` are the paper's fast setting halved
    (the paper: 64 and 32); the kernels ``(9, 1, 5)`` its 9-1-5 network. Every convolution
    works at the fine resolution with replicate 'same' padding; ReLU after the first two.
    """

    def __init__(
        self,
        channels: int = 3,
        scale: int = 4,
        widths: tuple[int, int] = (32, 16),
        kernels: tuple[int, int, int] = (9, 1, 5),
    ) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        if len(widths) != 2 or len(kernels) != 3:
            raise ValueError(f"widths {widths} needs 2 entries and kernels {kernels} 3")
        _check_positive(channels=channels, **{f"widths[{i}]": w for i, w in enumerate(widths)})
        self.channels = channels
        k1, k2, k3 = kernels
        self.net = nn.Sequential(
            _same_conv(channels + 1, widths[0], k1),
            nn.ReLU(),
            _same_conv(widths[0], widths[1], k2),
            nn.ReLU(),
            _same_conv(widths[1], channels, k3),
        )

    @property
    def last(self) -> nn.Conv2d:
        """The reconstruction convolution."""
        return self.net[-1]

    @torch.no_grad()
    def zero_last(self) -> SRCNN:
        """Zero the last convolution's weights and bias: the output is then bicubic exactly."""
        self.last.weight.zero_()
        self.last.bias.zero_()
        return self

    def forward(self, coarse: torch.Tensor, geo: torch.Tensor) -> torch.Tensor:
        _check_pair(coarse, geo, self.channels, self.scale)
        base = bicubic(coarse, self.scale)
        return base + self.net(torch.cat([base, geo], dim=1))


class _ResidualBlock(nn.Module):
    """SRGAN's block: conv 3x3 - BN - PReLU - conv 3x3 - BN, plus the input."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _same_conv(width, width, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.PReLU(),
            _same_conv(width, width, 3, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """The generator of SRGAN (Ledig et al., CVPR 2017): a first convolution, B residual
    blocks (conv-BN-PReLU-conv-BN + skip), a convolution + BN with a long skip, then log2(s)
    upsampling stages (conv to 4x channels, pixel shuffle x2, PReLU), a last convolution.
    Works at the coarse resolution; the fine geometry enters pixel-unshuffled (s*s channels),
    so it sees the body's exact shape at no fine-resolution cost. Predicts the residual over
    bicubic.

    ``coarse`` ``(N, channels, h, w)``, ``geo`` ``(N, 1, h*s, w*s)`` ->
    ``(N, channels, h*s, w*s)``. The first convolution (``first_kernel``, then PReLU) maps
    ``channels + s*s`` inputs to ``width``; the blocks and the long skip keep ``width`` (3x3);
    the first upsampling stage maps ``width`` to ``4 * up_width`` and shuffles to ``up_width``,
    the next ones keep ``up_width``; the last convolution (``first_kernel`` again, as the
    paper's 9-...-9) maps ``up_width`` to ``channels`` at the fine resolution. Replicate
    'same' padding throughout; no bias before a batch norm. The paper: width 64, B = 16,
    kernels 9.
    """

    def __init__(
        self,
        channels: int = 3,
        scale: int = 4,
        width: int = 32,
        blocks: int = 4,
        up_width: int = 16,
        first_kernel: int = 5,
    ) -> None:
        super().__init__()
        self.scale = _check_scale(scale)
        _check_positive(channels=channels, width=width, up_width=up_width)
        if blocks < 0:
            raise ValueError(f"blocks = {blocks}: at least 0")
        self.channels = channels
        self.head = nn.Sequential(
            _same_conv(channels + scale * scale, width, first_kernel), nn.PReLU()
        )
        self.blocks = nn.Sequential(*(_ResidualBlock(width) for _ in range(blocks)))
        self.trunk_end = nn.Sequential(
            _same_conv(width, width, 3, bias=False), nn.BatchNorm2d(width)
        )
        stages: list[nn.Module] = []
        c_in = width
        for _ in range(scale.bit_length() - 1):  # log2(scale)
            stages += [_same_conv(c_in, 4 * up_width, 3), nn.PixelShuffle(2), nn.PReLU()]
            c_in = up_width
        self.upsample = nn.Sequential(*stages)
        self.tail = _same_conv(up_width, channels, first_kernel)

    @property
    def last(self) -> nn.Conv2d:
        """The last convolution, at the fine resolution."""
        return self.tail

    @torch.no_grad()
    def zero_last(self) -> SRResNet:
        """Zero the last convolution's weights and bias: the output is then bicubic exactly."""
        self.tail.weight.zero_()
        self.tail.bias.zero_()
        return self

    def forward(self, coarse: torch.Tensor, geo: torch.Tensor) -> torch.Tensor:
        _check_pair(coarse, geo, self.channels, self.scale)
        x = self.head(torch.cat([coarse, F.pixel_unshuffle(geo, self.scale)], dim=1))
        x = x + self.trunk_end(self.blocks(x))
        return bicubic(coarse, self.scale) + self.tail(self.upsample(x))


def _check_judged(fields: torch.Tensor, geo: torch.Tensor, channels: int) -> None:
    _check_fields(fields, channels)
    _check_geo(geo)
    if fields.shape[0] != geo.shape[0]:
        raise ValueError(f"fields and geo batch sizes differ: {fields.shape[0]} and {geo.shape[0]}")
    if fields.shape[-2:] != geo.shape[-2:]:
        h, w = fields.shape[-2:]
        gh, gw = geo.shape[-2:]
        raise ValueError(f"geometry {gh}x{gw} is not the size of the fields, {h}x{w}")


class SRDiscriminator(nn.Module):
    """SRGAN's discriminator (Ledig et al. 2017), made size-agnostic: conv blocks (3x3,
    LeakyReLU 0.2, BN after the first; stride 2 every second block, widths doubling from
    ``width``), global average pooling, a dense layer of twice the last width with LeakyReLU,
    a dense layer to 1 logit. Input: ``cat(fields, geo)`` at the fine resolution (so it judges
    a field for its body).

    ``fields`` ``(N, channels, H, W)``, ``geo`` ``(N, 1, H, W)`` -> ``(N,)`` logits (real > 0).
    Block ``i`` (from 0) has ``width * 2 ** (i // 2)`` channels and stride ``1 + i % 2``:
    the defaults give 16, 16/2, 32, 32/2, 64, 64/2 (``/2``: stride 2), then 128 hidden units.
    The paper: 8 blocks from 64 (to 512), 1024 hidden units, and a fixed 96x96 input flattened
    into the dense layer (here replaced by the average over positions).
    """

    def __init__(self, channels: int = 3, width: int = 16, blocks: int = 6) -> None:
        super().__init__()
        _check_positive(channels=channels, width=width, blocks=blocks)
        self.channels = channels
        layers: list[nn.Module] = []
        c_in = channels + 1
        for i in range(blocks):
            c_out = width * 2 ** (i // 2)
            stride = 1 + i % 2
            layers.append(nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Linear(c_in, 2 * c_in), nn.LeakyReLU(0.2), nn.Linear(2 * c_in, 1)
        )

    def forward(self, fields: torch.Tensor, geo: torch.Tensor) -> torch.Tensor:
        _check_judged(fields, geo, self.channels)
        x = self.features(torch.cat([fields, geo], dim=1))
        return self.head(x.mean(dim=(2, 3)))[:, 0]


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN (Isola et al., CVPR 2017): C64-C128-C256-C512-style stack of 4x4
    convolutions with stride 2 (the last two stride 1), BN except the first, LeakyReLU 0.2,
    one logit per patch; ``layers`` and ``width`` make it smaller. Input:
    ``cat(condition, fields)``, ``in_channels`` channels in all.

    ``layers`` stride-2 convolutions with ``width * min(2 ** i, 8)`` channels (i from 0; no
    batch norm on the first), one stride-1 convolution with ``width * min(2 ** layers, 8)``,
    and a stride-1 convolution to one channel; all 4x4 with a padding of 1 (as pix2pix's code).
    ``(N, in_channels, H, W)`` -> ``(N, 1, h, w)`` logits, ``h = H // 2**layers - 2`` for H a
    multiple of ``2 ** layers``. ``layers = 3`` is the paper's 70x70 PatchGAN (there with
    ``width = 64``).
    """

    def __init__(self, in_channels: int, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, width=width, layers=layers)
        self.in_channels = in_channels
        seq: list[nn.Module] = []
        c_in = in_channels
        for i in range(layers + 1):
            c_out = width * min(2**i, 8)
            stride = 2 if i < layers else 1
            seq.append(nn.Conv2d(c_in, c_out, 4, stride, padding=1, bias=i == 0))
            if i > 0:
                seq.append(nn.BatchNorm2d(c_out))
            seq.append(nn.LeakyReLU(0.2))
            c_in = c_out
        seq.append(nn.Conv2d(c_in, 1, 4, 1, padding=1))
        self.net = nn.Sequential(*seq)

    @property
    def receptive_field(self) -> int:
        """The side, in input pixels, of the patch one output logit sees: from the last
        convolution back, ``r <- (r - 1) * stride + kernel`` starting from ``r = 1``."""
        r = 1
        for m in reversed(self.net):
            if isinstance(m, nn.Conv2d):
                r = (r - 1) * m.stride[0] + m.kernel_size[0]
        return r

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The ``(h, w)`` of the logit map for an ``height x width`` input."""
        size = [height, width]
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                size = [(n + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1 for n in size]
        return size[0], size[1]

    def forward(self, condition: torch.Tensor, fields: torch.Tensor) -> torch.Tensor:
        for name, t in (("condition", condition), ("fields", fields)):
            if t.ndim != 4:
                raise ValueError(f"{name} must be (N, C, H, W), got shape {tuple(t.shape)}")
        if condition.shape[0] != fields.shape[0]:
            raise ValueError(
                f"condition and fields batch sizes differ: "
                f"{condition.shape[0]} and {fields.shape[0]}"
            )
        if condition.shape[-2:] != fields.shape[-2:]:
            raise ValueError(
                f"condition {tuple(condition.shape[-2:])} and fields "
                f"{tuple(fields.shape[-2:])} differ in size"
            )
        got = condition.shape[1] + fields.shape[1]
        if got != self.in_channels:
            raise ValueError(
                f"expected {self.in_channels} input channels (condition + fields), got {got}"
            )
        h, w = self.output_size(*fields.shape[-2:])
        if min(h, w) < 1:
            raise ValueError(
                f"input {fields.shape[-2]}x{fields.shape[-1]} too small for "
                f"{self.receptive_field}-pixel patches: fewer layers"
            )
        return self.net(torch.cat([condition, fields], dim=1))
