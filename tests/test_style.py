"""``style``: images read and checked (bad input refused before any run directory, exit 2),
VGG-19 built in the zoo with its weights' checksum, the Gram-matrix losses, and the experiment
end to end on a tiny configuration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.experiments.fundamentals import style
from flowlearn.models import zoo


def test_images_are_read_checked_and_resized(tmp_path):
    from PIL import Image

    img = style.read_image("gravel", 48)  # grey texture: replicated to RGB
    assert img.shape == (3, 48, 48) and 0 <= img.min() and img.max() <= 1
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((40, 40, 2), np.uint8)[..., 0]).save(tmp_path / "grey.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="below 32"):
        style.read_image(str(tmp_path / "small.png"), 48)
    assert style.read_image(str(tmp_path / "grey.png"), 48).shape == (3, 48, 48)
    with pytest.raises(ValueError, match="not an image PIL can read"):
        style.read_image(str(tmp_path / "text.png"), 48)
    with pytest.raises(ValueError, match="no such file"):
        style.read_image(str(tmp_path / "none.png"), 48)
    with pytest.raises(ValueError, match="neither a file path nor"):
        style.read_image("mona_lisa", 48)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["content=missing.png"], "no such file"),
        (["style=mona_lisa"], "neither a file path nor"),
        (["features=vgg19", "weights=/nonexistent/vgg19.pth"], "VGG-19 ImageNet weights"),
    ],
)
def test_bad_input_exits_2_before_running(tmp_path, sets, message):
    from conftest import refused_before_running

    assert message in refused_before_running(tmp_path, "style", sets)


def test_vgg19_is_the_papers_and_its_weights_are_checked(tmp_path):
    net = zoo.vgg19_features()
    assert sum(p.numel() for p in net.parameters()) == 20_024_384
    with pytest.raises(zoo.WeightsMissingError, match="--set features=random"):
        zoo.load_vgg19_weights(net, str(tmp_path / "vgg19-dcbb9e9d.pth"))
    fake = tmp_path / "vgg19-fake.pth"
    torch.save({f"features.{k}": v for k, v in net.state_dict().items()}, fake)
    with pytest.raises(ValueError, match="does not start with dcbb9e9d"):
        zoo.load_vgg19_weights(net, str(fake))


def test_gram_losses_are_zero_for_the_same_image_and_not_for_another():
    feats = zoo.RandomTextureFeatures(filters=16, seed=0)
    a, b = torch.rand(1, 3, 40, 40), torch.rand(1, 3, 40, 40) ** 3
    grams = [style.gram(m) for m in feats(a)]
    assert float(style.style_loss(feats(a), grams)) == 0
    assert float(style.style_loss(feats(b), grams)) > 0
    # a Gram matrix ignores where things are: a shifted copy keeps (almost) the same style
    shifted = torch.roll(a, 7, dims=3)
    assert float(style.style_loss(feats(shifted), grams)) < 0.1 * float(
        style.style_loss(feats(b), grams)
    )


def test_blur_keeps_constants_and_the_mean_and_removes_fine_detail():
    const = torch.full((1, 3, 40, 40), 0.3)
    assert torch.allclose(style.gaussian_blur(const, 2.0), const, atol=1e-6)
    checker = (torch.arange(40)[:, None] + torch.arange(40)[None, :]) % 2
    x = checker.float().expand(1, 3, 40, 40)
    y = style.gaussian_blur(x, 2.0)
    assert y.shape == x.shape and abs(float(y.mean()) - 0.5) < 1e-3
    assert float(y.std()) < 0.01 * float(x.std())  # a one-pixel checkerboard is gone


def test_judges_tell_a_texture_from_noise_and_grey_from_colour():
    big = torch.from_numpy(style.read_image("gravel", 96))[None]
    a, b = big[..., :48, :48], big[..., 48:, 48:]
    g = torch.Generator().manual_seed(0)
    grey_noise = (0.5 + 0.1 * torch.randn(1, 1, 48, 48, generator=g)).clamp(0, 1)
    grey_noise = grey_noise.expand(1, 3, 48, 48)
    colour_noise = (0.5 + 0.1 * torch.randn(1, 3, 48, 48, generator=g)).clamp(0, 1)
    same = style.judges(a, a)
    assert same["spectrum"] == same["histogram"] == same["colour"] == same["chroma"] == 0
    crop, grey, colour = (style.judges(x, a) for x in (b, grey_noise, colour_noise))
    assert crop["spectrum"] < 0.5 * grey["spectrum"]  # white noise has the wrong spectrum
    # per-channel histograms of coloured and grey noise are alike; opponent colours are not
    assert colour["colour"] > 10 * grey["colour"] and colour["chroma"] > 0.05 > grey["chroma"]
    assert style.layout(a, a) == pytest.approx(1.0)
    assert style.layout(a, 1 - a) == pytest.approx(-1.0)


def test_style_end_to_end_tiny(tmp_path, one_torch_thread):
    from flowlearn.experiments import execute, get, load_run
    from flowlearn.report.figures import drawer

    exp = get("style")
    run = load_run(execute(exp, exp.make_config(quick=True, size=32, steps=30, filters=16),
                           tmp_path))  # fmt: skip
    t, tr = run.metrics["texture"], run.metrics["transfer"]
    assert t["result"] < t["noise"]  # the optimisation moved towards the texture
    assert tr["style_of_result"] < tr["style_of_content"]
    assert tr["content_of_result"] < tr["content_of_noise"]  # the layout came in too
    assert t["judges"]["result"]["spectrum"] < t["judges"]["noise"]["spectrum"]
    assert run.arrays["transfer"].shape == (32, 32, 3)
    assert [f.name for f in drawer("style")(run)] == [
        "style_texture", "style_transfer", "style_curves"
    ]  # fmt: skip
