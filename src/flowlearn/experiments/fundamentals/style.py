"""Neural style and texture (Gatys, Ecker & Bethge 2016), the talk's style-transfer slide,
measured by the losses that define it rather than shown alone.

An image is optimised (L-BFGS on its pixels) so that its features' Gram matrices match a style
image's (the style loss) and, for style transfer, its features match a content image's (the
content loss). Two feature spaces:

- ``features="random"`` (default, offline, CI): one layer of random convolution filters at four
  sizes, the space in which Ustyuzhaninov et al. (ICLR 2017) showed that Gram matrices alone
  synthesise natural textures without any training. Known to work for textures; a random
  network knows no objects, so its content is the image's layout: the image low-passed by a
  Gaussian of width ``size / 32`` (matching the random features themselves over-constrains the
  image, which then fills with coloured noise);
- ``features="vgg19"``: Gatys et al.'s VGG-19 (built in flowlearn's model zoo) with torchvision's
  ImageNet weights, a checksummed optional download (``--set weights=FILE``).

Both optimisations start, as Gatys et al.'s, from noise (grey 0.5 +- 0.1: pixels that start
saturated never move through the sigmoid). Measured, each beside its reference: the Gram (style)
and content losses of the results against those of the inputs; and, since the Gram loss rates
coloured noise better than a real crop of the texture, statistics the optimisation never saw:
the luminance power spectrum and the colour histograms, each as a distance to the example and
beside another crop's (texture) or the content image's (transfer).

Images: scikit-image's (``astronaut``, ``chelsea``, ``coffee``, ``brick``, ``grass``,
``gravel`` ..., shipped offline) or a file path (PNG / JPEG), grey or RGB, at least 32 pixels
a side; resized to ``size`` pixels.

Run: ``flowlearn run style``; ``--set content=photo.png --set style=painting.jpg``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import Field

from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.models import zoo

#: Style transfer holds when the result's spectrum and colour-histogram distances to the style
#: are at most this share of the content image's, and its layout (luminance low-passed at
#: ``size / 16``) correlates with the content image's by at least LAYOUT_CORRELATION.
TRANSFER_SHARE = 0.5
#: Texture synthesis holds when, in statistics the optimisation never saw (the luminance
#: spectrum and histogram), the result is within this factor of another crop's distance.
TEXTURE_FACTOR = 1.25
#: ... and its mean colour spread differs from the example's by at most this (on the 0-1
#: scale: 5 of 255 levels, about one just-noticeable difference).
CHROMA_TOLERANCE = 0.02
LAYOUT_CORRELATION = 0.8
MIN_SIDE = 32
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Config(ExperimentConfig):
    content: str = Field("astronaut", description="scikit-image image name or a file path")
    style: str = Field("gravel", description="scikit-image image name or a file path")
    size: int = Field(128, ge=MIN_SIDE, le=1024, description="side of the square images")
    features: Literal["random", "vgg19"] = Field("random", description="the feature space")
    weights: str | None = Field(None, description="VGG-19 weights file (vgg19-dcbb9e9d.pth)")
    filters: int = Field(256, ge=8, le=2048, description="random filters per size")
    steps: int = Field(200, ge=1, le=100_000, description="L-BFGS iterations per optimisation")
    content_weight: float = Field(1.0, ge=0, description="against the style loss's 1")
    style_weight: float = Field(1.0, ge=0)


def _say(text: str) -> None:
    print(text, flush=True)


def read_image(name: str, size: int) -> np.ndarray:
    """An RGB float image ``(3, size, size)`` in [0, 1] from a scikit-image name or a file;
    ValueError on a missing file, too small an image or unusable channels."""
    import skimage.data
    from skimage.transform import resize

    if Path(name).suffix:
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"image {name}: no such file")
        from PIL import Image, UnidentifiedImageError

        try:
            img = np.asarray(Image.open(path))
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"image {name}: not an image PIL can read ({exc})") from None
    elif name in _SKIMAGE and hasattr(skimage.data, name):
        img = np.asarray(getattr(skimage.data, name)())
    else:
        raise ValueError(
            f"image {name!r}: neither a file path nor one of scikit-image's images "
            f"({', '.join(_SKIMAGE)})"
        )
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(
            f"image {name}: shape {img.shape}: expected grey (H, W), RGB (H, W, 3) or RGBA "
            "(H, W, 4)"
        )
    if min(img.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image {name}: {img.shape[1]}x{img.shape[0]} pixels, below {MIN_SIDE}")
    img = img[..., :3].astype(np.float64)
    img = img / (255.0 if img.max() > 1 else 1.0)
    side = min(img.shape[:2])  # centre square crop, then resize
    top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    img = img[top : top + side, left : left + side]
    return resize(img, (size, size), anti_aliasing=True).transpose(2, 0, 1).astype(np.float32)


_SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "camera", "brick", "grass", "gravel")


class Features:
    """Style features (a list of maps) and the content features of an image batch."""

    def __init__(self, config: Config) -> None:
        self.kind = config.features
        if self.kind == "random":
            self.net = zoo.RandomTextureFeatures(filters=config.filters, seed=config.seed)
            self.sigma = config.size / 32
        else:
            net = zoo.vgg19_features()
            zoo.load_vgg19_weights(net, config.weights)
            self.net = net.eval().requires_grad_(False)
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def __call__(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        if self.kind == "random":
            return self.net(x - 0.5), gaussian_blur(x - 0.5, self.sigma)
        h = (x - self.mean) / self.std
        style, content = [], None
        for i, layer in enumerate(self.net):
            h = layer(h)
            if i in zoo.VGG19_STYLE_LAYERS:
                style.append(h)
            if i == zoo.VGG19_CONTENT_LAYER:
                content = h
            if i >= max(zoo.VGG19_STYLE_LAYERS):
                break
        assert content is not None
        return style, content


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` (N, C, H, W) low-passed by a Gaussian of width ``sigma`` pixels (reflecting edges)."""
    r = max(1, min(int(3 * sigma), x.shape[-1] - 1, x.shape[-2] - 1))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = torch.nn.functional.pad(x, (r, r, r, r), mode="reflect")
    x = torch.nn.functional.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return torch.nn.functional.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def gram(f: torch.Tensor) -> torch.Tensor:
    n, c, h, w = f.shape
    f = f.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_loss(maps: list[torch.Tensor], targets: list[torch.Tensor]) -> torch.Tensor:
    """Mean over layers of the squared difference of Gram matrices relative to the target's
    size (``|G - A|^2 / |A|^2``): dimensionless, so layers and feature spaces weigh alike and
    0 is a perfect match."""
    total = sum(
        ((gram(m) - t) ** 2).sum() / (t**2).sum().clamp_min(1e-30)
        for m, t in zip(maps, targets, strict=True)
    )
    return total / len(maps)


def content_loss(f: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``|F - P|^2 / |P|^2``: the features' relative squared difference."""
    return ((f - target) ** 2).sum() / (target**2).sum().clamp_min(1e-30)


def optimise(
    feats: Features,
    start: torch.Tensor,
    grams: list[torch.Tensor],
    content: torch.Tensor | None,
    config: Config,
    label: str,
) -> tuple[torch.Tensor, np.ndarray]:
    """L-BFGS (Gatys et al.'s optimiser; strong-Wolfe line search) on the image's logits, so
    pixels stay in [0, 1]; returns the image and the loss at each evaluation."""
    logit = torch.logit(start.clamp(1e-3, 1 - 1e-3)).contiguous().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [logit], lr=1, max_iter=config.steps, history_size=20, line_search_fn="strong_wolfe"
    )
    curve: list[float] = []
    weight = config.content_weight

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        maps, f = feats(torch.sigmoid(logit))
        loss = config.style_weight * style_loss(maps, grams)
        if content is not None:
            loss = loss + weight * content_loss(f, content)
        loss.backward()
        curve.append(float(loss.detach()))
        return loss

    opt.step(closure)
    _say(f"style: {label}: {len(curve)} evaluations, loss {curve[0]:.4g} -> {curve[-1]:.4g}")
    return torch.sigmoid(logit).detach(), np.array(curve)


def spectrum(x: torch.Tensor) -> np.ndarray:
    """The log radial power spectrum of an image's luminance (mean removed)."""
    g = x[0].mean(0).numpy().astype(np.float64)
    g = g - g.mean()
    p = np.abs(np.fft.fftshift(np.fft.fft2(g))) ** 2
    n = g.shape[0]
    yy, xx = np.indices(p.shape)
    r = np.hypot(yy - n // 2, xx - n // 2).astype(int)
    radial = np.bincount(r.ravel(), p.ravel()) / np.maximum(np.bincount(r.ravel()), 1)
    return np.log(radial[1 : n // 2] + 1e-12)


def judges(x: torch.Tensor, example: torch.Tensor) -> dict[str, float]:
    """Statistics the optimisation never saw, each as a distance to the example: the luminance
    power spectrum (RMS of log ratios), the luminance histogram (Wasserstein-1), the colour
    histograms (Wasserstein-1 of the two opponent colours, summed: per-channel RGB histograms
    cannot see coloured noise) and the difference of mean colour spread (|RGB - grey|, on the
    0-1 scale: a grey example needs a grey result)."""
    xs, es = opponent(x), opponent(example)
    w1 = np.abs(np.sort(xs, axis=1) - np.sort(es, axis=1)).mean(1)
    chroma = (x - x.mean(1, keepdim=True)).abs().mean() - (
        example - example.mean(1, keepdim=True)
    ).abs().mean()
    return {
        "spectrum": float(np.sqrt(np.mean((spectrum(x) - spectrum(example)) ** 2))),
        "histogram": float(w1[0]),
        "colour": float(w1[1:].sum()),
        "chroma": float(abs(chroma)),
    }


def opponent(x: torch.Tensor) -> np.ndarray:
    """An image's luminance and opponent colours (red - green, yellow - blue), ``(3, pixels)``."""
    r, g, b = x[0].reshape(3, -1).numpy().astype(np.float64)
    return np.stack([(r + g + b) / 3, r - g, (r + g) / 2 - b])


def layout(x: torch.Tensor, other: torch.Tensor) -> float:
    """Correlation of two images' luminance low-passed at ``size / 16``: their layout alike."""
    sigma = x.shape[-1] / 16
    a = gaussian_blur(x.mean(1, keepdim=True), sigma).ravel().numpy()
    b = gaussian_blur(other.mean(1, keepdim=True), sigma).ravel().numpy()
    return float(np.corrcoef(a, b)[0, 1])


def check(config: Config) -> None:
    """Refuse, before a run directory is made, unusable images or missing weights."""
    read_image(config.content, config.size)
    read_image(config.style, 2 * config.size)
    if config.features == "vgg19":
        import os

        if config.weights is not None and not os.path.isfile(config.weights):
            raise ValueError(zoo.vgg19_missing_message(config.weights, "no such file"))


def run(config: Config, run_dir: Path) -> Result:
    torch.manual_seed(config.seed)
    try:
        feats = Features(config)
    except zoo.WeightsMissingError as exc:
        raise ValueError(str(exc)) from None
    content = torch.from_numpy(read_image(config.content, config.size))[None]
    # the style image at twice the size: two different crops give the texture's own floor
    big = torch.from_numpy(read_image(config.style, 2 * config.size))[None]
    s = config.size
    crop_a, crop_b = big[..., :s, :s], big[..., s:, s:]
    with torch.no_grad():
        style_maps, _ = feats(crop_a)
        grams = [gram(m) for m in style_maps]
        _, content_target = feats(content)

        def s_loss(x):
            return float(style_loss(feats(x)[0], grams))

        def c_loss(x):
            return float(content_loss(feats(x)[1], content_target))

    start = time.perf_counter()
    g = torch.Generator().manual_seed(config.seed)
    noise = (0.5 + 0.1 * torch.randn(1, 3, s, s, generator=g)).clamp(0, 1)
    texture, tex_curve = optimise(feats, noise, grams, None, config, "texture")
    transfer, tr_curve = optimise(feats, noise, grams, content_target, config, "transfer")
    seconds = time.perf_counter() - start
    with torch.no_grad():
        m = {
            "features": config.features,
            "seconds": seconds,
            "texture": {
                "noise": s_loss(noise),
                "result": s_loss(texture),
                "other_crop": s_loss(crop_b),
                "judges": {
                    "result": judges(texture, crop_a),
                    "other_crop": judges(crop_b, crop_a),
                    "noise": judges(noise, crop_a),
                },
            },
            "transfer": {
                "style_of_result": s_loss(transfer),
                "style_of_content": s_loss(content),
                "style_of_other_crop": s_loss(crop_b),
                "content_of_result": c_loss(transfer),
                "content_of_style": c_loss(crop_a),
                "content_of_noise": c_loss(noise),
                "content_weight": config.content_weight,
                "judges": {
                    "result": judges(transfer, crop_a),
                    "content": judges(content, crop_a),
                },
                "layout": {
                    "result": layout(transfer, content),
                    "style": layout(crop_a, content),
                },
            },
        }
    t = m["texture"]
    _say(
        f"style: texture style loss {t['result']:.3g} (noise {t['noise']:.3g}, another crop "
        f"{t['other_crop']:.3g}); transfer style {m['transfer']['style_of_result']:.3g} against "
        f"{m['transfer']['style_of_content']:.3g} for the content image, content "
        f"{m['transfer']['content_of_result']:.3g} against {m['transfer']['content_of_style']:.3g}"
    )

    def u8(x: torch.Tensor) -> np.ndarray:
        return (x[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    arrays = {
        "content": u8(content),
        "style": u8(crop_a),
        "style_other": u8(crop_b),
        "texture": u8(texture),
        "transfer": u8(transfer),
        "curve_texture": tex_curve,
        "curve_transfer": tr_curve,
    }
    return Result(metrics=m, claims=claims(config, m), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    t, tr = m["texture"], m["transfer"]
    j, jt, lay = t["judges"], tr["judges"], tr["layout"]
    if m["features"] == "random":
        space = ("random-weight convolution features (Ustyuzhaninov et al. 2017), not VGG-19; "
                 "content: the image low-passed")  # fmt: skip
    else:
        space = "VGG-19 features (ImageNet weights); content: relu4_2"
    return [
        Claim(
            slide="Neural style: a texture from its Gram matrices",
            talk="a new image with the style of the example",
            measured=f"distance to the example of the synthesised texture / another crop of the "
            f"example / the noise it started from: luminance spectrum {j['result']['spectrum']:.3f}"
            f" / {j['other_crop']['spectrum']:.3f} / {j['noise']['spectrum']:.3f}, luminance "
            f"histogram {j['result']['histogram']:.4f} / {j['other_crop']['histogram']:.4f} / "
            f"{j['noise']['histogram']:.4f}, colour spread {j['result']['chroma']:.4f} / "
            f"{j['other_crop']['chroma']:.4f} / {j['noise']['chroma']:.4f} (Gram loss it was "
            f"fitted on {t['result']:.3g}, "
            f"another crop {t['other_crop']:.3g}, the noise {t['noise']:.3g}); in {space}",
            reproduced=bool(
                j["result"]["spectrum"] <= TEXTURE_FACTOR * j["other_crop"]["spectrum"]
                and j["result"]["histogram"] <= TEXTURE_FACTOR * j["other_crop"]["histogram"]
                and j["result"]["chroma"] <= CHROMA_TOLERANCE
            ),
            reason="judged in statistics the optimisation never saw, since the Gram loss it "
            "minimises rates coloured noise better than a real crop: reproduced when the "
            f"texture is within {TEXTURE_FACTOR:g} times another crop's distance to the example "
            "in both the luminance power spectrum and the luminance histogram, and its mean "
            f"colour spread within {CHROMA_TOLERANCE:g} of the example's (5 of 255 levels).",
        ),
        Claim(
            slide="Neural style transfer: the content of one image, the style of another",
            talk="style transferred (Gatys et al. 2016)",
            measured=f"distance to the style of the result / the content image: spectrum "
            f"{jt['result']['spectrum']:.3f} / {jt['content']['spectrum']:.3f}, luminance "
            f"histogram "
            f"{jt['result']['histogram']:.4f} / {jt['content']['histogram']:.4f}, colour "
            f"histograms {jt['result']['colour']:.4f} / {jt['content']['colour']:.4f}; layout "
            f"correlation with the content of the result / the style image {lay['result']:.2f} / "
            f"{lay['style']:.2f}; Gram loss of the result {tr['style_of_result']:.3g} against "
            f"{tr['style_of_content']:.3g} for the content image, content loss "
            f"{tr['content_of_result']:.3g} against {tr['content_of_style']:.3g} for the style "
            f"image; in {space}",
            reproduced=bool(
                jt["result"]["spectrum"] <= TRANSFER_SHARE * jt["content"]["spectrum"]
                and jt["result"]["histogram"] <= TRANSFER_SHARE * jt["content"]["histogram"]
                and jt["result"]["colour"] <= TRANSFER_SHARE * jt["content"]["colour"]
                and lay["result"] >= LAYOUT_CORRELATION
            ),
            reason=f"reproduced when the result is at most {TRANSFER_SHARE:g} times as far from "
            "the style as the content image is (luminance spectrum, luminance and colour "
            "histograms, which "
            "the optimisation never saw) and its layout (luminance low-passed at size / 16) "
            f"correlates with the content image's by at least {LAYOUT_CORRELATION:g}: it took the "
            "style without losing the content."
            + (
                " With random features the content loss is itself a low-pass match at size / 32, "
                "so the layout check is close to what was fitted; the style checks are not."
                if m["features"] == "random"
                else ""
            ),
        ),
    ]


EXPERIMENT = Experiment(
    name="style",
    title="Neural style: texture synthesis and style transfer, measured by their losses",
    claim="A network transfers the style of one image onto the content of another.",
    order=116,
    config=Config,
    run=run,
    check=check,
    quick={"size": 64, "steps": 100, "filters": 256},
    runtime_quick="~30 s",
    runtime_full="~1.5 min",
    claims=claims,
)
