"""The talk's model zoo, built here (no weights downloaded): AlexNet, GoogLeNet, ResNet.

- :class:`AlexNet`: torchvision's single-tower layout of Krizhevsky et al. 2012 (64-192-384-256-
  256 filters, 4096-4096 classifier): 61,100,840 parameters.
- :class:`GoogLeNet`: Szegedy et al. 2014, Table 1, as published: 22 layers with parameters,
  local response normalisation, biases, no batch norm, true 5x5 branches, optional auxiliary
  classifiers (section 5). :data:`GOOGLENET_COUNTS` gives every count.
- :func:`resnet18`, :func:`resnet50`: He et al. 2016 in torchvision's layout (no convolution
  biases, batch norm), 11,689,512 and 25,557,032 parameters. :func:`keras_resnet50_count`
  derives Keras's 25,636,712 from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (buffers such as batch-norm running statistics not included)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# --------------------------------------------------------------------------------------------
# AlexNet


class AlexNet(nn.Module):
    """(N, C, 224, 224) -> (N, classes) logits; torchvision's layout."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )  # fmt: skip
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


# --------------------------------------------------------------------------------------------
# GoogLeNet

#: Table 1 of Szegedy et al. 2014: (in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
INCEPTION = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def _conv(c_in: int, c_out: int, k: int, stride: int = 1, bias: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=bias), nn.ReLU(inplace=True)
    )


class Inception(nn.Module):
    """Four branches concatenated: 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool then 1x1."""

    def __init__(self, c_in: int, c1: int, r3: int, c3: int, r5: int, c5: int, cp: int) -> None:
        super().__init__()
        self.b1 = _conv(c_in, c1, 1)
        self.b2 = nn.Sequential(_conv(c_in, r3, 1), _conv(r3, c3, 3))
        self.b3 = nn.Sequential(_conv(c_in, r5, 1), _conv(r5, c5, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), _conv(c_in, cp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class AuxClassifier(nn.Module):
    """Section 5: 5x5/3 average pool, 1x1 conv 128, FC 1024, dropout 0.7, FC classes."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.AdaptiveAvgPool2d(4), _conv(c_in, 128, 1), nn.Flatten(),
            nn.Linear(128 * 16, 1024), nn.ReLU(inplace=True), nn.Dropout(0.7),
            nn.Linear(1024, num_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GoogLeNet(nn.Module):
    """(N, C, 224, 224) -> (N, classes) logits (plus two auxiliary logits while training when
    ``aux``). 22 layers with parameters: 3 in the stem, 2 per inception module, the classifier.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux: bool = False) -> None:
        super().__init__()
        lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        self.stem = nn.Sequential(
            _conv(in_channels, 64, 7, stride=2), nn.MaxPool2d(3, 2, ceil_mode=True), lrn,
            _conv(64, 64, 1), _conv(64, 192, 3), lrn, nn.MaxPool2d(3, 2, ceil_mode=True),
        )  # fmt: skip
        self.inception = nn.ModuleDict({k: Inception(*v) for k, v in INCEPTION.items()})
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.aux1 = AuxClassifier(512, num_classes) if aux else None
        self.aux2 = AuxClassifier(528, num_classes) if aux else None
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(1024, num_classes)
        )

    def forward(self, x: torch.Tensor):
        x = self.stem(x)
        aux = []
        for name, block in self.inception.items():
            if name in ("4a", "5a"):
                x = self.pool(x)
            x = block(x)
            if self.training and name == "4a" and self.aux1 is not None:
                aux.append(self.aux1(x))
            if self.training and name == "4d" and self.aux2 is not None:
                aux.append(self.aux2(x))
        out = self.head(x)
        return (out, *aux) if aux else out


# --------------------------------------------------------------------------------------------
# ResNet


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )  # fmt: skip
        self.shortcut = _projection(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, torchvision's "v1.5"), 1x1 expand by 4."""

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1) -> None:
        super().__init__()
        c_out = width * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, c_out, 1, bias=False), nn.BatchNorm2d(c_out),
        )  # fmt: skip
        self.shortcut = _projection(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


def _projection(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class ResNet(nn.Module):
    """(N, C, H, W) -> (N, classes). The ImageNet stem (7x7/2 conv, 3x3/2 max-pool), four stages
    of ``blocks`` residual blocks (widths 64, 128, 256, 512), global average pool, FC.
    Works on 28x28 inputs too (the stages end at 1x1)."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks: Sequence[int],
        num_classes: int = 1000,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
            nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        )  # fmt: skip
        stages, c_in = [], 64
        for i, n in enumerate(blocks):
            width = 64 * 2**i
            for j in range(n):
                stages.append(block(c_in, width, 2 if (j == 0 and i > 0) else 1))
                c_in = width * block.expansion
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)


def batchnorm_channels(model: nn.Module) -> int:
    """Channels of all batch-norm layers (each has a running mean and variance of that size)."""
    return sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def conv_out_channels(model: nn.Module) -> int:
    """Output channels of all convolutions: the biases Keras adds (``use_bias=True``)."""
    return sum(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))


def keras_resnet50_count() -> dict[str, int]:
    """Keras's ``ResNet50().count_params()`` derived from the torchvision layout.

    Keras's ResNet50 gives every convolution a bias (each is followed by batch norm, which makes
    it redundant) and counts batch norm's moving mean and variance among its (non-trainable)
    weights. With C = the convolutions' output channels = the batch-norm channels = 26,560:
    ``25,557,032 + C (biases) + 2 C (moving statistics) = 25,636,712``.
    """
    model = resnet50()
    torch_params = count_parameters(model)
    biases = conv_out_channels(model)
    moving = 2 * batchnorm_channels(model)
    return {
        "torchvision": torch_params,
        "conv_biases": biases,
        "bn_moving_statistics": moving,
        "keras": torch_params + biases + moving,
        "keras_trainable": torch_params + biases,
        "keras_non_trainable": moving,
    }


# ------------------------------------------------------------------------------- VGG-19
#: VGG-19's convolutional part (Simonyan & Zisserman 2015, configuration E): channels, "M" a pool.
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
                512, 512, 512, 512, "M", 512, 512, 512, 512, "M")  # fmt: skip
#: torchvision's ImageNet weights for it, and the first 8 hex digits of their sha256 (the
#: check torch.hub applies to a file named ``<name>-<prefix>.pth``).
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_SHA256_PREFIX = "dcbb9e9d"
#: The layers neural style uses (Gatys et al. 2016): relu1_1 ... relu5_1 (style), relu4_2
#: (content), as indices into :func:`vgg19_features`' Sequential.
VGG19_STYLE_LAYERS = (1, 6, 11, 20, 29)
VGG19_CONTENT_LAYER = 22


def vgg19_features() -> nn.Sequential:
    """VGG-19's convolutional layers, indexed as torchvision's ``vgg19().features`` (so its
    ``features.*`` weights load into it); 20,024,384 parameters."""
    layers: list[nn.Module] = []
    c_in = 3
    for v in VGG19_LAYOUT:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, int(v), 3, padding=1), nn.ReLU(inplace=False)]
            c_in = int(v)
    return nn.Sequential(*layers)


class WeightsMissingError(FileNotFoundError):
    """Optional pretrained weights that are neither on disk nor downloadable here."""


def load_vgg19_weights(model: nn.Sequential, path: str | None = None, download: bool = True):
    """ImageNet weights into :func:`vgg19_features`: from ``path`` (torchvision's
    ``vgg19-dcbb9e9d.pth``), else torch.hub's cache, downloading it there when allowed. The
    file's sha256 must start with :data:`VGG19_SHA256_PREFIX`; a missing file raises
    :class:`WeightsMissingError` saying how to get it and what runs without it."""
    import hashlib
    import os

    if path is None:
        hub = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(VGG19_URL))
        if not os.path.isfile(hub) and download:
            try:
                torch.hub.download_url_to_file(VGG19_URL, hub, hash_prefix=VGG19_SHA256_PREFIX)
            except Exception as exc:  # no network: say what to do
                raise WeightsMissingError(vgg19_missing_message(hub, str(exc))) from None
        path = hub
    if not os.path.isfile(path):
        raise WeightsMissingError(vgg19_missing_message(path, "no such file"))
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if not digest.startswith(VGG19_SHA256_PREFIX):
        raise ValueError(
            f"{path}: sha256 {digest[:16]}... does not start with {VGG19_SHA256_PREFIX}: not "
            "torchvision's VGG-19 weights (or a damaged copy)"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    feats = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    model.load_state_dict(feats)
    return model


def vgg19_missing_message(path: str, why: str) -> str:
    return (
        f"VGG-19 ImageNet weights not found at {path} ({why}). Download {VGG19_URL} (sha256 "
        f"starting {VGG19_SHA256_PREFIX}) and pass its path (--set weights=FILE), or run with "
        "--set features=random: texture synthesis with random-weight features, which needs no "
        "weights (Ustyuzhaninov et al. 2017)"
    )


class RandomTextureFeatures(nn.Module):
    """One convolutional layer of random filters at several sizes, then ReLU: the feature space in
    which Ustyuzhaninov, Brendel, Gatys & Bethge (ICLR 2017) showed that Gram matrices alone
    synthesise natural textures, without any training. ``filters`` per size; fixed by ``seed``;
    its outputs ``[(N, filters, H, W), ...]``, one per size."""

    def __init__(self, sizes: Sequence[int] = (3, 5, 7, 11), filters: int = 128, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        for k in sizes:
            conv = nn.Conv2d(3, filters, k, padding=k // 2, padding_mode="reflect")
            with torch.no_grad():
                bound = (6 / (3 * k * k)) ** 0.5
                conv.weight.copy_((torch.rand(conv.weight.shape, generator=g) * 2 - 1) * bound)
                conv.bias.zero_()
            conv.requires_grad_(False)
            self.convs.append(conv)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.relu(conv(x)) for conv in self.convs]
