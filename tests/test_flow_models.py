"""Flow surrogates (Guo et al. 2016 CNN, DeepCFD-style U-Net): shapes, shape errors, separate
decoders, parameter budgets, a fit sanity check, and ONNX export checked with onnxruntime."""

from __future__ import annotations

import copy
import sys

import pytest
import torch
from torch.nn import functional as F

from flowlearn.models.flow import FlowUNet, GuoCNN
from flowlearn.models.onnx import check_onnx, export_onnx
from flowlearn.models.zoo import count_parameters

GRIDS = [(2, 32, 64), (1, 16, 32)]


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs on one torch thread (conftest.one_torch_thread)."""


def _guo(grid: tuple[int, int]) -> GuoCNN:
    return GuoCNN(width=8, bottleneck=32, grid=grid)


@pytest.mark.parametrize(("batch", "h", "w"), GRIDS)
def test_guo_cnn_shapes(batch, h, w):
    torch.manual_seed(0)
    assert _guo((h, w))(torch.randn(batch, 2, h, w)).shape == (batch, 3, h, w)
    fully_conv = GuoCNN(in_channels=3, width=8, bottleneck=16, grid=None)
    assert fully_conv(torch.randn(batch, 3, h, w)).shape == (batch, 3, h, w)


@pytest.mark.parametrize(("batch", "h", "w"), GRIDS)
@pytest.mark.parametrize("depth", [3, 4])
def test_flow_unet_shapes(batch, h, w, depth):
    torch.manual_seed(0)
    model = FlowUNet(base=8, depth=depth, dropout=0.1)
    assert model.grid_multiple == 2**depth
    assert model(torch.randn(batch, 3, h, w)).shape == (batch, 3, h, w)


def test_bad_shapes_raise_clear_errors():
    unet, guo = FlowUNet(base=8), _guo((32, 64))
    assert unet.grid_multiple == guo.grid_multiple == 8
    with pytest.raises(ValueError, match=r"multiples of 8.*\(1, 3, 20, 64\)"):
        unet(torch.randn(1, 3, 20, 64))
    with pytest.raises(ValueError, match=r"multiples of 16.*\(1, 3, 32, 72\)"):
        FlowUNet(base=4, depth=4)(torch.randn(1, 3, 32, 72))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\), got \(1, 2, 32, 64\)"):
        unet(torch.randn(1, 2, 32, 64))
    with pytest.raises(ValueError, match=r"grid \(H, W\) = \(32, 64\).*\(1, 2, 16, 32\)"):
        guo(torch.randn(1, 2, 16, 32))
    with pytest.raises(ValueError, match=r"multiples of 8.*\(1, 2, 36, 64\)"):
        GuoCNN(width=4, grid=None)(torch.randn(1, 2, 36, 64))
    with pytest.raises(ValueError, match="multiples of 8"):
        GuoCNN(grid=(30, 60))
    with pytest.raises(ValueError, match="dropout"):
        FlowUNet(dropout=1.0)


@pytest.mark.parametrize("kind", ["guo", "unet"])
def test_decoders_are_separate(kind):
    torch.manual_seed(0)
    if kind == "guo":
        model, x = _guo((16, 32)), torch.randn(2, 2, 16, 32)
    else:
        model, x = FlowUNet(base=8), torch.randn(2, 3, 16, 32)
    model(x)[:, 0].sum().backward()  # u only
    assert all(p.grad is not None for p in model.decoders[0].parameters())
    assert all(p.grad is not None for p in model.encoder.parameters())
    u_params = {id(p) for p in model.decoders[0].parameters()}
    for field in (1, 2):  # the v and p decoders share no weight with u and get no gradient
        for p in model.decoders[field].parameters():
            assert id(p) not in u_params
            assert p.grad is None or not p.grad.any()


def test_parameter_counts_at_64x128():
    assert 200_000 <= count_parameters(GuoCNN(grid=(64, 128))) <= 1_000_000
    for base in (16, 32):
        assert 300_000 <= count_parameters(FlowUNet(base=base)) <= 2_000_000
    # most of Guo's weights sit in the fully connected bottleneck, sized by the grid
    assert count_parameters(GuoCNN(grid=None)) < count_parameters(GuoCNN(grid=(64, 128)))


def test_flow_unet_overfits_one_sample():
    torch.manual_seed(0)
    model = FlowUNet()
    x, target = torch.randn(1, 3, 8, 16), torch.randn(1, 3, 8, 16)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = F.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10


# --------------------------------------------------------------------------------------------
# ONNX


def _onnx_models() -> dict[str, tuple[torch.nn.Module, int]]:
    torch.manual_seed(0)
    return {
        "guo": (GuoCNN(width=8, bottleneck=32, grid=(16, 32)), 2),
        "unet": (FlowUNet(base=8, dropout=0.1), 3),
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each model exported once at batch 1 with a dynamic batch axis (trained mode on entry)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    out = {}
    for name, (model, channels) in _onnx_models().items():
        model.train()
        path = tmp_path_factory.mktemp("onnx") / f"{name}.onnx"
        written = export_onnx(model, torch.randn(1, channels, 16, 32), path)
        assert written == path and path.is_file()
        assert model.training  # mode restored
        out[name] = (path, model, channels)
    return out


@pytest.mark.parametrize("name", ["guo", "unet"])
@pytest.mark.parametrize("batch", [1, 3])
def test_onnx_matches_torch_at_any_batch(exported, name, batch):
    path, model, channels = exported[name]
    diff = check_onnx(path, model, torch.randn(batch, channels, 16, 32), atol=1e-4)
    assert 0.0 <= diff <= 1e-4
    assert model.training


def test_check_onnx_raises_on_mismatch(exported):
    path, model, channels = exported["unet"]
    perturbed = copy.deepcopy(model)
    with torch.no_grad():
        perturbed.decoders[2].head.bias += 0.5
    with pytest.raises(ValueError, match=r"differs from PyTorch's by 0\.5.*atol = 0\.0001"):
        check_onnx(path, perturbed, torch.randn(2, channels, 16, 32))


def test_missing_onnxruntime_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r'pip install "flowlearn\[onnx\]"'):
        check_onnx(tmp_path / "none.onnx", FlowUNet(base=4), torch.randn(1, 3, 8, 8))


# ---------------------------------------------------------------------------- newer candidates
def test_attention_unet_shapes_and_extra_weights():
    from flowlearn.models.flow import FlowUNet

    plain, attn = FlowUNet(base=8, depth=3), FlowUNet(base=8, depth=3, attention=4)
    x = torch.randn(2, 3, 16, 32)
    assert attn(x).shape == (2, 3, 16, 32)
    extra = count_parameters(attn) - count_parameters(plain)
    c = 8 * 2**3  # bottleneck channels: LayerNorms, attention, MLP and the position conv
    assert extra == 2 * 2 * c + (4 * c * c + 4 * c) + (4 * c * c + 3 * c) + (9 * c + c)
    with pytest.raises(ValueError, match="heads 3 must divide the 64 channels"):
        FlowUNet(base=8, attention=3)
    with pytest.raises(ValueError, match="attention = -1"):
        FlowUNet(base=8, attention=-1)


def test_attention_sees_the_whole_bottleneck():
    """One changed cell at one end of the input changes the output at the far end of the
    grid through the transformer layer: its receptive field is global."""
    from flowlearn.models.flow import FlowUNet

    torch.manual_seed(0)
    net = FlowUNet(base=8, depth=2, attention=2).eval()
    x = torch.randn(1, 3, 16, 64)
    y = x.clone()
    y[..., :, :4] += 1.0
    with torch.no_grad():
        far = (net(x) - net(y))[..., 48:]
    assert far.abs().max() > 1e-4


def test_fno_runs_on_any_grid_with_the_same_weights():
    from flowlearn.models.flow import FlowFNO

    torch.manual_seed(0)
    net = FlowFNO(width=8, layers=2, modes=(4, 8))
    assert net(torch.randn(2, 3, 16, 32)).shape == (2, 3, 16, 32)
    assert net(torch.randn(1, 3, 32, 64)).shape == (1, 3, 32, 64)
    with pytest.raises(ValueError, match="FlowFNO needs H and W to be multiples of 8"):
        net(torch.randn(1, 3, 12, 32))
    with pytest.raises(ValueError, match="FlowFNO expects input of shape"):
        net(torch.randn(1, 2, 16, 32))


def test_fno_without_the_library_says_how_to_install(monkeypatch):
    from flowlearn.models.flow import FlowFNO

    monkeypatch.setitem(sys.modules, "neuralop.models", None)
    monkeypatch.setitem(sys.modules, "neuralop", None)
    with pytest.raises(ImportError, match=r'pip install "flowlearn\[operators\]"'):
        FlowFNO()


@pytest.mark.parametrize("architecture", ["unet-attn", "fno"])
def test_new_architectures_round_trip_through_a_checkpoint(architecture, tmp_path):
    """A member of each new architecture is saved and loaded by the surrogate's own loader
    (its 'surrogate' section names the architecture) and predicts the same fields."""
    import numpy as np

    from flowlearn.data.flow_fields import INPUT_NAMES, Normaliser
    from flowlearn.training import save_weights
    from flowlearn.training.surrogate import FlowSurrogate, Member, build_model

    torch.manual_seed(0)
    grid = (32, 16)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 16, 32)).astype(np.float32)
    x[:, 1] = x[:, 1] > 0
    x[:, 2] = 10.0 + rng.random((4, 1, 1)).astype(np.float32)
    y = rng.normal(size=(4, 3, 16, 32)).astype(np.float32)
    norm = Normaliser.fit(x, y, x[:, 2, 0, 0])
    net = build_model(architecture, grid, 8, 2, INPUT_NAMES)
    member = Member(architecture, net, INPUT_NAMES, norm)
    section = {"architecture": architecture, "grid": list(grid), "width": 8, "depth": 2,
               "inputs": list(INPUT_NAMES)}  # fmt: skip
    path = tmp_path / "m.safetensors"
    save_weights(path, member, config={"surrogate": section})
    loaded = FlowSurrogate.load([path])
    before = FlowSurrogate([member], grid).predict(x[:, 0], x[:, 1] > 0.5, x[:, 2, 0, 0])
    after = loaded.predict(x[:, 0], x[:, 1] > 0.5, x[:, 2, 0, 0])
    np.testing.assert_allclose(after.fields, before.fields, rtol=1e-5, atol=1e-5)
