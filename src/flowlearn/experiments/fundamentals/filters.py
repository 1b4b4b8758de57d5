"""The GIMP slides: a convolution filter is a small matrix slid over an image, a ``Conv2d`` layer
is exactly that filter, and a network learns the matrix from examples, then shares it over the
whole input.

Three measurements on a real photograph (``skimage.data.chelsea``, the cat, in grey):

1. the slide's kernels (edge detection, GIMP's 5x5 sharpen, and box blur, Gaussian blur, Sobel x,
   emboss) held by one ``torch.nn.Conv2d`` give the same image as ``scipy.ndimage.correlate``
   with the equivalent boundary handling;
2. a single 3x3 ``Conv2d`` trained on (patch, edge-filtered patch) pairs of the cat recovers the
   edge kernel, and the held-out test loss on patches of another photograph
   (``skimage.data.camera``) falls with the training loss;
3. weight sharing: that layer has 9 weights (+1 bias) where a dense layer mapping the image to
   an image of the same size needs ``(H*W)^2``.

Correlation vs convolution: ``torch`` "convolution" is cross-correlation,
``out[i, j] = sum_{a,b} k[a, b] * img[i + a - r, j + b - r]`` (r = half width), the kernel is
not flipped. ``scipy.ndimage.convolve(img, k)`` flips it: it equals
``scipy.ndimage.correlate(img, k[::-1, ::-1])`` for odd-sized kernels. The edge, sharpen and blur
kernels are symmetric under the flip, Sobel and emboss change sign / direction.

Run: ``flowlearn run filters --quick``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.ndimage as ndi
import skimage.color
import skimage.data
import skimage.transform
import torch
from pydantic import Field, model_validator
from torch import nn

from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.experiments._runs import torch_threads
from flowlearn.training import resolve_device

log = logging.getLogger("flowlearn")

#: The kernels of the slides, as cross-correlation weights (what ``Conv2d`` holds).
KERNELS: dict[str, np.ndarray] = {
    # the slide's edge detection: the 5-point discrete Laplacian
    "edge": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    # GIMP documentation, "Convolution Matrix" filter, Sharpen
    "sharpen": np.array(
        [
            [0, 0, 0, 0, 0],
            [0, 0, -1, 0, 0],
            [0, -1, 5, -1, 0],
            [0, 0, -1, 0, 0],
            [0, 0, 0, 0, 0],
        ],
        dtype=np.float64,
    ),
    "box_blur": np.full((3, 3), 1.0 / 9.0),
    # binomial approximation of a Gaussian, sigma about 1 pixel
    "gaussian_blur": np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0,
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64),
    # GIMP documentation, Emboss
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64),
}
KernelName = Literal["edge", "sharpen", "box_blur", "gaussian_blur", "sobel_x", "emboss"]

#: torch ``Conv2d`` ``padding_mode`` -> the ``scipy.ndimage`` ``mode`` that pads the same way.
#: Beware the names: torch "reflect" (d c b | a b c d) is scipy "mirror"; scipy "reflect"
#: repeats the edge pixel (c b a | a b c).
SCIPY_MODE: dict[str, str] = {
    "zeros": "constant",
    "reflect": "mirror",
    "replicate": "nearest",
    "circular": "wrap",
}
Padding = Literal["zeros", "reflect", "replicate", "circular"]

TestImage = Literal["camera", "astronaut", "coins", "moon"]

#: Tolerances of the claims.
EQUAL_TOL = 1e-5  # float32 convolution vs float64 scipy
KERNEL_TOL = 1e-2  # learned vs true kernel weight


class Config(ExperimentConfig):
    """The GIMP-filters experiment; defaults are the full mode."""

    kernels: list[KernelName] = Field(
        default_factory=lambda: list(KERNELS),
        min_length=1,
        description="kernels applied to the photograph (all six by default)",
    )
    image_size: int = Field(
        200,
        ge=32,
        le=300,
        description="height in pixels the cat photo (300 x 451) is resized to; 200 keeps "
        "arrays.npz near 2 MB",
    )
    padding: Padding = Field(
        "reflect",
        description="Conv2d padding_mode; compared with scipy's equivalent mode "
        "(zeros=constant, reflect=mirror, replicate=nearest, circular=wrap)",
    )
    target_kernel: KernelName = Field(
        "edge", description="kernel the trained Conv2d has to recover (its size sets the layer's)"
    )
    bias: bool = Field(True, description="give the trained Conv2d a bias (it should learn 0)")
    patch_size: int = Field(
        16,
        ge=8,
        le=128,
        description="side of the square training / test patches, pixels (>= 8 holds any kernel "
        "here, 5x5 at most, with room to spare)",
    )
    n_train_patches: int = Field(
        512, ge=8, le=20_000, description="patches of the cat photo used for training"
    )
    n_test_patches: int = Field(
        256, ge=8, le=20_000, description="patches of the test photo (never seen in training)"
    )
    test_image: TestImage = Field(
        "camera", description="skimage.data photo the held-out test patches come from"
    )
    optimizer: Literal["adam", "sgd"] = Field("adam", description="optimizer of the kernel fit")
    learning_rate: float = Field(
        0.05,
        gt=0.0,
        le=10.0,
        description="learning rate; 0.05 suits Adam (plain SGD needs far more steps)",
    )
    epochs: int = Field(
        1000, ge=1, le=100_000, description="full-batch steps of the kernel fit (all patches)"
    )

    @model_validator(mode="after")
    def _patch_fits_the_photo(self) -> Config:
        if self.patch_size > self.image_size:
            raise ValueError(
                f"patch_size {self.patch_size} exceeds image_size {self.image_size}: training "
                "patches are cut from the resized photo, lower patch_size or raise image_size"
            )
        return self


def grey_photo(name: str, height: int | None = None) -> np.ndarray:
    """A ``skimage.data`` photo as grey float64 in [0, 1], shape ``(H, W)``; resized (with
    anti-aliasing) to ``height`` rows, aspect ratio kept, when given."""
    image = getattr(skimage.data, name)()
    if image.ndim == 3:
        image = skimage.color.rgb2gray(image[..., :3])
    else:
        image = image / 255.0
    if height is not None and height != image.shape[0]:
        width = round(image.shape[1] * height / image.shape[0])
        image = skimage.transform.resize(image, (height, width), anti_aliasing=True)
    return np.clip(image.astype(np.float64), 0.0, 1.0)


def embed(kernel: np.ndarray, size: int) -> np.ndarray:
    """Centre ``kernel`` (odd side) in a ``size x size`` zero matrix: the zero ring adds nothing,
    so kernels of several sizes can share one ``Conv2d``."""
    pad = (size - kernel.shape[0]) // 2
    return np.pad(kernel, pad)


def conv_layer(kernels: Sequence[np.ndarray], padding: str = "zeros") -> nn.Conv2d:
    """One ``Conv2d`` (1 input channel, one output channel per kernel, no bias) holding the
    kernels as its weights, padded to keep the image size ("same" output)."""
    size = max(k.shape[0] for k in kernels)
    layer = nn.Conv2d(1, len(kernels), size, padding=size // 2, padding_mode=padding, bias=False)
    weights = np.stack([embed(k, size) for k in kernels])[:, None]
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weights, dtype=torch.float32))
    return layer


def filter_torch(
    image: np.ndarray, kernels: Sequence[np.ndarray], padding: str = "zeros"
) -> np.ndarray:
    """Apply ``kernels`` with a ``Conv2d`` in float32: ``(H, W)`` -> ``(n_kernels, H, W)``."""
    layer = conv_layer(kernels, padding)
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None, None]
    with torch.no_grad():
        return layer(x)[0].numpy()


def filter_scipy(image: np.ndarray, kernel: np.ndarray, padding: str = "zeros") -> np.ndarray:
    """The same filter by ``scipy.ndimage.correlate`` in float64 (the reference)."""
    return ndi.correlate(np.asarray(image, dtype=np.float64), kernel, mode=SCIPY_MODE[padding])


def sample_patches(image: np.ndarray, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` square patches at random positions: ``(H, W)`` -> ``(n, size, size)``."""
    rows = rng.integers(0, image.shape[0] - size + 1, n)
    cols = rng.integers(0, image.shape[1] - size + 1, n)
    return np.stack([image[r : r + size, c : c + size] for r, c in zip(rows, cols, strict=True)])


def valid_targets(patches: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter each patch, keeping only pixels whose window lies inside it (no padding):
    ``(n, p, p)`` -> ``(n, p - k + 1, p - k + 1)``."""
    r = kernel.shape[0] // 2
    full = np.stack([ndi.correlate(p, kernel, mode="constant") for p in patches])
    return full[:, r:-r, r:-r]


def run(config: Config, run_dir: Path) -> Result:
    with torch_threads(1):  # tiny models: one thread is faster and keeps sums in one order
        return _run(config)


def _run(config: Config) -> Result:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = resolve_device(config.device)
    metrics: dict = {}
    arrays: dict[str, np.ndarray] = {}

    # (1) Conv2d == scipy.ndimage.correlate, kernel by kernel
    image = grey_photo("chelsea", config.image_size)
    height, width = image.shape
    kernels = [KERNELS[name] for name in config.kernels]
    by_torch = filter_torch(image, kernels, config.padding)
    per_kernel = {}
    diff_map = np.zeros_like(image)
    for i, (name, kernel) in enumerate(zip(config.kernels, kernels, strict=True)):
        reference = filter_scipy(image, kernel, config.padding)
        diff = np.abs(by_torch[i] - reference)
        diff_map = np.maximum(diff_map, diff)
        r = kernel.shape[0] // 2
        interior = ndi.correlate(image, kernel, mode="constant")[r:-r, r:-r]
        convolved = ndi.convolve(image, kernel, mode=SCIPY_MODE[config.padding])
        flipped = filter_scipy(image, kernel[::-1, ::-1], config.padding)
        per_kernel[name] = {
            "size": kernel.shape[0],
            "torch_vs_scipy_max_abs": float(diff.max()),
            "torch_vs_scipy_interior_max_abs": float(
                np.abs(by_torch[i][r:-r, r:-r] - interior).max()
            ),
            # scipy's convolve flips the kernel: equal to correlate with k[::-1, ::-1] ...
            "convolve_vs_flipped_correlate_max_abs": float(np.abs(convolved - flipped).max()),
            # ... and differs from torch's correlation unless the kernel is flip-symmetric
            "convolve_vs_torch_max_abs": float(np.abs(convolved - by_torch[i]).max()),
        }
    equal_error = max(k["torch_vs_scipy_max_abs"] for k in per_kernel.values())
    metrics |= {
        "image": {"name": "chelsea", "height": height, "width": width},
        "padding": config.padding,
        "scipy_mode": SCIPY_MODE[config.padding],
        "kernels": per_kernel,
        "torch_vs_scipy_max_abs": equal_error,
    }
    arrays |= {
        "image": image.astype(np.float32),
        "filtered": by_torch.astype(np.float32),
        "kernels": np.stack([embed(k, 5) for k in kernels]).astype(np.float32),
        "diff_map": diff_map.astype(np.float32),
    }

    # (2) learn the target kernel from (patch, filtered patch) pairs. Inputs are standardised
    # with the training photo's mean and std (applied to the test photo too): raw [0, 1] pixels
    # make the least-squares problem ~2e4 times stiffer along "all weights equal + bias" than
    # along the fine-detail directions, and Adam then needs tens of thousands of steps; after
    # standardising, ~1000 do. The filter is linear, so the kernel to find is unchanged.
    true_kernel = KERNELS[config.target_kernel]
    size = true_kernel.shape[0]
    mean, std = float(image.mean()), float(image.std())
    train_photo = (image - mean) / std
    test_photo = (grey_photo(config.test_image) - mean) / std
    train_in = sample_patches(train_photo, config.n_train_patches, config.patch_size, rng)
    test_in = sample_patches(test_photo, config.n_test_patches, config.patch_size, rng)

    def tensors(patches: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.as_tensor(patches[:, None], dtype=torch.float32, device=device)
        y = valid_targets(patches, true_kernel)[:, None]
        return x, torch.as_tensor(y, dtype=torch.float32, device=device)

    x_train, y_train = tensors(train_in)
    x_test, y_test = tensors(test_in)
    model = nn.Conv2d(1, 1, size, bias=config.bias).to(device)  # no padding: valid windows only
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)

    def estimate_loss() -> tuple[float, float]:
        with torch.no_grad():
            train = nn.functional.mse_loss(model(x_train), y_train).item()
            test = nn.functional.mse_loss(model(x_test), y_test).item()
        return train, test

    history = [estimate_loss()]
    for _ in range(config.epochs):
        loss = nn.functional.mse_loss(model(x_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(estimate_loss())
    train_loss, test_loss = (np.asarray(h, dtype=np.float32) for h in zip(*history, strict=True))

    learned = model.weight.detach().cpu().numpy()[0, 0].astype(np.float64)
    learned_bias = float(model.bias.detach().cpu()[0]) if config.bias else 0.0
    kernel_error = float(np.abs(learned - true_kernel).max())
    # weight sharing: the same few weights serve every pixel of an image of any size, where a
    # dense layer image -> image needs one weight per (input pixel, output pixel) pair
    pixels = height * width
    conv_parameters = size * size + int(config.bias)
    dense_parameters = pixels * pixels + (pixels if config.bias else 0)
    # the learned filter on the whole test photo, against the true one
    photo_learned = filter_torch(test_photo, [learned], "reflect")[0]
    photo_true = filter_scipy(test_photo, true_kernel, "reflect")
    metrics["learning"] = {
        "target_kernel": config.target_kernel,
        "test_image": config.test_image,
        "input_mean": mean,
        "input_std": std,
        "learned_kernel": learned.round(5).tolist(),
        "learned_bias": learned_bias,
        "max_abs_kernel_error": kernel_error,
        "final_train_loss": float(train_loss[-1]),
        "final_test_loss": float(test_loss[-1]),
        "initial_test_loss": float(test_loss[0]),
        "test_photo_max_abs_error": float(np.abs(photo_learned - photo_true).max()),
        "conv_parameters": conv_parameters,
        "dense_parameters": dense_parameters,
        "image_pixels": pixels,
    }
    log.info(
        "weight sharing: Conv2d %dx%d has %d parameters; a dense layer %dx%d image -> image has %d",
        size,
        size,
        conv_parameters,
        height,
        width,
        dense_parameters,
    )
    # a centre crop is enough to see the filter at work and keeps arrays.npz small
    crop = tuple(slice(max(0, n // 2 - 96), n // 2 + 96) for n in test_photo.shape)
    arrays |= {
        "true_kernel": true_kernel.astype(np.float32),
        "learned_kernel": learned.astype(np.float32),
        "train_loss": train_loss,
        "test_loss": test_loss,
        "test_photo": test_photo[crop].astype(np.float32),
        "test_photo_learned": photo_learned[crop].astype(np.float32),
    }
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, metrics: dict) -> list[Claim]:
    learn = metrics["learning"]
    worst = max(metrics["kernels"], key=lambda k: metrics["kernels"][k]["torch_vs_scipy_max_abs"])
    return [
        Claim(
            slide="GIMP: convolution matrix",
            talk="a filter is a small matrix slid over the image; a Conv2d holding it gives "
            "the same image",
            measured=f"max |Conv2d - scipy| = {metrics['torch_vs_scipy_max_abs']:.1e} over "
            f"{len(metrics['kernels'])} kernels",
            reproduced=metrics["torch_vs_scipy_max_abs"] < EQUAL_TOL,
            reason=(
                f"reproduced when below {EQUAL_TOL:g} (float32 Conv2d vs float64 "
                f"scipy.ndimage.correlate, padding_mode {config.padding!r} = scipy mode "
                f"{metrics['scipy_mode']!r}, whole {metrics['image']['height']}x"
                f"{metrics['image']['width']} image); worst kernel: {worst}. Conv2d is a "
                "cross-correlation: scipy.ndimage.convolve flips the kernel"
            ),
        ),
        Claim(
            slide="Convolutional layers",
            talk="you learn the kernel weights, then share them over the full input",
            measured=(
                f"max |learned - true| = {learn['max_abs_kernel_error']:.1e} "
                f"({config.target_kernel}); {learn['conv_parameters']} parameters vs "
                f"{learn['dense_parameters']:.2e} for a dense layer; test loss "
                f"{learn['final_test_loss']:.1e} on {config.test_image}"
            ),
            reproduced=learn["max_abs_kernel_error"] < KERNEL_TOL,
            reason=(
                f"reproduced when every learned weight is within {KERNEL_TOL:g} of the true "
                f"kernel after {config.epochs} full-batch {config.optimizer} steps on "
                f"{config.n_train_patches} patches of the cat; the held-out loss on "
                f"{config.test_image} patches falls from {learn['initial_test_loss']:.1e} to "
                f"{learn['final_test_loss']:.1e}"
            ),
        ),
    ]


EXPERIMENT = Experiment(
    name="filters",
    title="Convolution filters: GIMP's matrices and a Conv2d layer",
    claim="An image filter is a small matrix slid over the picture; a convolutional layer holds "
    "such a matrix, learns its weights from examples and shares them over the whole input.",
    order=30,
    config=Config,
    run=run,
    quick={"image_size": 128, "n_train_patches": 128, "n_test_patches": 64},
    runtime_quick="~5 s",
    runtime_full="~10 s",
    claims=claims,
)
