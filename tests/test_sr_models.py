"""The super-resolution networks: shapes at every scale, bicubic exactly at a zeroed last layer,
bicubic's reproduction of constants and ramps, the input checks, the PatchGAN's receptive field,
and a tiny SRResNet that beats bicubic on a smooth field."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from flowlearn.models.super_resolution import (
    SRCNN,
    PatchDiscriminator,
    SRDiscriminator,
    SRResNet,
    bicubic,
)

GENERATORS = [SRCNN, SRResNet]


def _pair(scale: int, n: int = 2, h: int = 6, w: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    coarse = torch.randn(n, 3, h, w, generator=gen)
    geo = torch.randn(n, 1, h * scale, w * scale, generator=gen)
    return coarse, geo


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("model", GENERATORS)
def test_generator_shapes(model, scale):
    coarse, geo = _pair(scale)
    out = model(scale=scale)(coarse, geo)
    assert out.shape == (2, 3, 6 * scale, 10 * scale)


@pytest.mark.parametrize("scale", [2, 4, 8])
@pytest.mark.parametrize("model", GENERATORS)
def test_zeroed_last_layer_is_bicubic_exactly(model, scale):
    coarse, geo = _pair(scale)
    net = model(scale=scale).zero_last()
    assert torch.equal(net(coarse, geo), bicubic(coarse, scale))
    net.eval()
    assert torch.equal(net(coarse, geo), bicubic(coarse, scale))


def test_discriminator_shapes():
    fields, geo = torch.randn(2, 3, 24, 40), torch.randn(2, 1, 24, 40)
    assert SRDiscriminator()(fields, geo).shape == (2,)
    assert SRDiscriminator(width=4, blocks=3)(fields[:, :, :7, :9], geo[:, :, :7, :9]).shape == (2,)
    patch = PatchDiscriminator(in_channels=4)
    # three stride-2 4x4 convolutions (padding 1) halve 64x48 to 8x6, two stride-1 ones take 1 each
    logits = patch(geo.new_zeros(2, 1, 64, 48), torch.randn(2, 3, 64, 48))
    assert logits.shape == (2, 1, 6, 4) == (2, 1, *patch.output_size(64, 48))
    small = PatchDiscriminator(in_channels=7, width=8, layers=2)
    assert small(torch.randn(1, 4, 32, 32), torch.randn(1, 3, 32, 32)).shape == (1, 1, 6, 6)


def test_patch_receptive_field_by_hand():
    # Back from one logit, r <- (r - 1) * stride + kernel, all kernels 4:
    #   output conv, stride 1:   1 -> (1 - 1) * 1 + 4 = 4
    #   C(8w) conv,  stride 1:   4 -> (4 - 1) * 1 + 4 = 7
    #   C(4w) conv,  stride 2:   7 -> (7 - 1) * 2 + 4 = 16
    #   C(2w) conv,  stride 2:  16 -> (16 - 1) * 2 + 4 = 34
    #   C(w)  conv,  stride 2:  34 -> (34 - 1) * 2 + 4 = 70   (pix2pix's 70x70 PatchGAN)
    assert PatchDiscriminator(in_channels=4).receptive_field == 70
    # one stride-2 layer fewer: 4, 7, 16, 34
    assert PatchDiscriminator(in_channels=4, width=8, layers=2).receptive_field == 34


def test_bicubic_reproduces_constants_and_ramps():
    const = torch.full((1, 3, 5, 7), 0.37)
    assert torch.allclose(bicubic(const, 4), torch.full((1, 3, 20, 28), 0.37), atol=1e-6)

    h, w = 12, 16
    a, by, bx = 0.3, -0.7, 1.1

    def ramp(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return a + by * y[:, None] + bx * x[None, :]

    def keys_error(c: torch.Tensor) -> torch.Tensor:
        # Cubic convolution (Keys 1981) of f(k) = k at c = k0 + t, 0 <= t < 1, with the taps
        # W(1 + t), W(t), W(1 - t), W(2 - t) on k0 - 1 .. k0 + 2 gives
        #   c - (2 alpha + 1) t (t - 1) (2 t - 1),
        # exact for alpha = -1/2 only; PyTorch's alpha = -3/4 leaves + t (t - 1) (2 t - 1) / 2,
        # at most 0.048 cells (s = 2: +-0.046875 at t = 1/4, 3/4).
        t = c - torch.floor(c)
        return t * (t - 1) * (2 * t - 1) / 2

    coarse = ramp(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64))
    for s in (2, 4, 8):
        # fine cell i has its centre at coarse coordinate (i + 0.5) / s - 0.5 (align_corners=False)
        yf = (torch.arange(h * s, dtype=torch.float64) + 0.5) / s - 0.5
        xf = (torch.arange(w * s, dtype=torch.float64) + 0.5) / s - 0.5
        fine = ramp(yf, xf)
        expected = fine + by * keys_error(yf)[:, None] + bx * keys_error(xf)[None, :]
        up = bicubic(coarse[None, None], s)[0, 0]
        # the 4-tap stencil needs two coarse cells on either side: 2 * s fine cells from each edge
        m = 2 * s
        assert torch.allclose(up[m:-m, m:-m], expected[m:-m, m:-m], atol=1e-5)
        # ... so the ramp itself comes back only to within 0.048 * slope per direction (for
        # even s no fine centre falls at t = 0 or 1/2, where the error vanishes)
        err = (up - fine)[m:-m, m:-m].abs().max().item()
        assert 0.01 < err <= 0.048 * (abs(by) + abs(bx))


@pytest.mark.parametrize("scale", [0, 1, 3, 6, -2, 2.0, True])
def test_bad_scale(scale):
    with pytest.raises(ValueError, match="scale must be a power of two >= 2, got"):
        SRCNN(scale=scale)
    with pytest.raises(ValueError, match="scale must be a power of two >= 2, got"):
        SRResNet(scale=scale)
    with pytest.raises(ValueError, match="scale must be a power of two >= 2, got"):
        bicubic(torch.zeros(1, 3, 4, 4), scale)


@pytest.mark.parametrize("model", GENERATORS)
def test_generator_bad_inputs(model):
    net = model(scale=4)
    coarse, geo = _pair(4)
    with pytest.raises(ValueError, match="coarse and geo batch sizes differ"):
        net(coarse, geo[:1])
    with pytest.raises(ValueError, match="geometry 24x44 is not x4 the coarse field's 6x10"):
        net(coarse, F.pad(geo, (0, 4)))
    with pytest.raises(ValueError, match="geometry 12x20 is not x4 the coarse field's 6x10"):
        net(coarse, geo[:, :, ::2, ::2])
    with pytest.raises(ValueError, match="expected 3 field channels, got 2"):
        net(coarse[:, :2], geo)
    with pytest.raises(ValueError, match="expected 1 geometry channel, got 2"):
        net(coarse, geo.repeat(1, 2, 1, 1))
    with pytest.raises(ValueError, match=r"must be \(N, C, H, W\)"):
        net(coarse[0], geo)


def test_discriminator_bad_inputs():
    disc = SRDiscriminator()
    fields, geo = torch.randn(2, 3, 16, 16), torch.randn(2, 1, 16, 16)
    with pytest.raises(ValueError, match="expected 3 field channels, got 2"):
        disc(fields[:, :2], geo)
    with pytest.raises(ValueError, match="fields and geo batch sizes differ"):
        disc(fields, geo[:1])
    with pytest.raises(ValueError, match="geometry 16x8 is not the size of the fields, 16x16"):
        disc(fields, geo[..., :8])

    patch = PatchDiscriminator(in_channels=4)
    with pytest.raises(ValueError, match="expected 4 input channels"):
        patch(geo, fields[:, :2])
    with pytest.raises(ValueError, match="batch sizes differ"):
        patch(geo[:1], fields)
    with pytest.raises(ValueError, match="differ in size"):
        patch(geo[..., :8], fields)
    with pytest.raises(ValueError, match="too small for 70-pixel patches"):
        patch(geo, fields)  # 16x16 -> 2x2 -> 1x1 -> 0x0


def test_constructor_checks():
    with pytest.raises(ValueError, match="must be odd"):
        SRCNN(kernels=(9, 2, 5))
    with pytest.raises(ValueError, match="width = 0"):
        SRResNet(width=0)
    with pytest.raises(ValueError, match="blocks = 0"):
        SRDiscriminator(blocks=0)


def test_tiny_srresnet_beats_bicubic():
    torch.manual_seed(0)
    n = 16
    y, x = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
    k = 2 * math.pi / n
    fine = torch.stack(  # u, v, p: each a sum of two sines
        [
            torch.sin(k * x) + 0.5 * torch.sin(2 * k * y + 0.3),
            torch.cos(k * y) + 0.5 * torch.sin(3 * k * x),
            torch.sin(k * (x + y)) + 0.5 * torch.cos(2 * k * x),
        ]
    )[None]
    geo = ((torch.hypot(x - 8, y - 8) - 3) / 8)[None, None]  # a cylinder of radius 3
    coarse = F.avg_pool2d(fine, 2)  # 2x2 block means
    bicubic_mse = F.mse_loss(bicubic(coarse, 2), fine).item()

    net = SRResNet(scale=2, width=8, blocks=1).zero_last()  # starts from bicubic
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(200):
        opt.zero_grad()
        F.mse_loss(net(coarse, geo), fine).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        mse = F.mse_loss(net(coarse, geo), fine).item()
    # observed (seeds 0-2): mse / bicubic_mse ~ 7e-4 (bicubic_mse ~ 0.0124); the brief asks < 0.5
    assert mse < 0.05 * bicubic_mse
