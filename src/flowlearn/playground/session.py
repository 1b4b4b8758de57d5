"""One playground session: the settings a person chose, the data they make, the network and its
training, exactly as playground.tensorflow.org trains it, with flowlearn's PyTorch code.

The site's training (``playground.ts``): one step is one epoch over the training points in
minibatches of ``batch_size``, in the order drawn; the loss is ``0.5 (output - label)^2``; plain
SGD; L1 / L2 regularisation on the weights only (not the biases); weights start uniform in
[-0.5, 0.5], biases at 0.1; the output neuron is ``tanh`` for classification, linear for
regression. The data sets and features are :mod:`flowlearn.data.playground`'s.

Everything a browser may send is validated by :class:`Settings` (pydantic): at most
:data:`MAX_LAYERS` hidden layers of :data:`MAX_NEURONS` neurons and :data:`MAX_POINTS` points.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import nn

from flowlearn.data.playground import (
    CLASSIFICATION,
    DATASETS,
    FEATURES,
    REGRESSION,
    default_n_samples,
    domain_grid,
    feature_map,
    make_dataset,
    train_test_split,
)
from flowlearn.models.mlp import MLP

MAX_LAYERS = 6
MAX_NEURONS = 8
MAX_POINTS = 10_000
#: The site's learning rates and regularisation rates (its drop-down menus).
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: Heat-map resolutions sent to the page: the output, and each feature / neuron.
OUTPUT_RES = 50
NEURON_RES = 20
#: Points of the loss curve kept (older epochs are thinned).
HISTORY = 400


class Settings(BaseModel):
    """The whole state of the page (it also lives in the URL). Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    problem: Literal["classification", "regression"] = "classification"
    dataset: Literal["circle", "xor", "gauss", "spiral", "plane", "multi-gaussian"] = "circle"
    ratio: int = Field(50, ge=10, le=90, description="training share of the points, %")
    noise: int = Field(0, ge=0, le=50, description="noise, %")
    batch: int = Field(10, ge=1, le=30)
    features: list[Literal["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]] = Field(
        default_factory=lambda: ["x1", "x2"], min_length=1, max_length=7
    )
    hidden: list[int] = Field(default_factory=lambda: [4, 2], max_length=MAX_LAYERS)
    lr: float = 0.03
    activation: Literal["relu", "tanh", "sigmoid", "linear"] = "tanh"
    regularization: Literal["none", "L1", "L2"] = "none"
    reg_rate: float = 0.0
    seed: int = Field(0, ge=0, le=2**31 - 1)
    points: int | None = Field(None, ge=20, le=MAX_POINTS, description="None: the site's")
    show_test: bool = False
    discretize: bool = False

    @field_validator("hidden")
    @classmethod
    def _widths(cls, v: list[int]) -> list[int]:
        if any(not 1 <= w <= MAX_NEURONS for w in v):
            raise ValueError(f"each hidden layer has 1 to {MAX_NEURONS} neurons, got {v}")
        return v

    @field_validator("features")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"features repeated: {v}")
        return [f for f in FEATURES if f in v]  # the site's order

    @field_validator("lr")
    @classmethod
    def _lr(cls, v: float) -> float:
        if not any(math.isclose(v, r, rel_tol=1e-9) for r in LEARNING_RATES):
            raise ValueError(f"learning rate {v} is not one of the site's {LEARNING_RATES}")
        return v

    @field_validator("reg_rate")
    @classmethod
    def _reg(cls, v: float) -> float:
        if not any(math.isclose(v, r, rel_tol=1e-9, abs_tol=1e-12) for r in REG_RATES):
            raise ValueError(f"regularisation rate {v} is not one of the site's {REG_RATES}")
        return v

    def matches_problem(self) -> Settings:
        """The data set of the chosen problem: switching problem picks its first data set."""
        sets = CLASSIFICATION if self.problem == "classification" else REGRESSION
        if self.dataset not in sets:
            return self.model_copy(update={"dataset": sets[0]})
        return self

    def data_key(self) -> tuple:
        return (self.dataset, self.noise, self.ratio, self.seed, self.points)

    def net_key(self) -> tuple:
        return (tuple(self.features), tuple(self.hidden), self.activation, self.problem)


def build_network(settings: Settings) -> MLP:
    """The site's network: weights uniform in [-0.5, 0.5], biases 0.1."""
    net = MLP(len(settings.features), settings.hidden, 1, settings.activation)
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.uniform_(module.weight, -0.5, 0.5)
            nn.init.constant_(module.bias, 0.1)
    return net


def output(net: MLP, z: torch.Tensor, problem: str) -> torch.Tensor:
    out = net(z)[:, 0]
    return torch.tanh(out) if problem == "classification" else out


def _quantise(values: np.ndarray) -> str:
    """Values in [-1, 1] as base64 bytes 0-255 (clipped): compact heat maps for the page."""
    q = np.round((np.clip(values, -1, 1) + 1) * 127.5).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def talk_point(settings: Settings, train_loss: float, test_loss: float, epoch: int) -> dict:
    """The talk's point the current setting illustrates (features vs depth, capacity,
    over-fitting), decided from the settings and the losses."""
    nonlinear = set(settings.features) - {"x1", "x2"}
    params = 0
    width = len(settings.features)
    for h in [*settings.hidden, 1]:
        params += (width + 1) * h
        width = h
    n_train = round((settings.points or default_n_samples(settings.dataset)) * settings.ratio / 100)
    if epoch >= 50 and test_loss > 1.5 * train_loss + 0.02:
        return {
            "topic": "over-fitting",
            "text": "Over-fitting: the training loss keeps falling while the test loss stays "
            "above it. The network learns the noise of its training points; fewer neurons, more "
            "data or regularisation bring the two curves together.",
        }
    if not settings.hidden and nonlinear:
        return {
            "topic": "features vs depth",
            "text": "Features vs depth: with X1², X2² (or products, sines) a network without "
            "any hidden layer separates what a linear model cannot, such as the circle. The "
            "right features can replace depth; a deep network has to learn them.",
        }
    if not settings.hidden or settings.activation == "linear":
        return {
            "topic": "capacity",
            "text": "Capacity: without hidden layers (or with linear activations) the network "
            "is a linear model of its features: it draws one straight boundary. Add neurons, "
            "layers or features to bend it.",
        }
    if params > n_train:
        return {
            "topic": "capacity",
            "text": f"Capacity: {params} parameters for {n_train} training points. A network "
            "with more parameters than data can fit them all; whether it generalises shows in "
            "the test loss.",
        }
    return {
        "topic": "play",
        "text": "Play around! Change the data, the features, the layers and the learning rate, "
        "and watch what each neuron learns.",
    }


class Session:
    """One browser tab's playground: data, network, training and what the page draws."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = (settings or Settings()).matches_problem()
        self._make_data()
        self._make_network()

    # ------------------------------------------------------------------------- state
    def _make_data(self) -> None:
        s = self.settings
        rng_seed = s.seed
        X, y = make_dataset(s.dataset, n_samples=s.points, noise=s.noise / 100, seed=rng_seed)
        (self.X_train, self.y_train), (self.X_test, self.y_test) = train_test_split(
            X, y, train_fraction=s.ratio / 100, seed=rng_seed
        )
        self.data_version = getattr(self, "data_version", 0) + 1

    def _make_network(self) -> None:
        s = self.settings
        torch.manual_seed(s.seed + getattr(self, "resets", 0))
        self.net = build_network(s)
        self.epoch = 0
        self.history: list[tuple[int, float, float]] = []
        self.z_train = torch.from_numpy(feature_map(self.X_train, s.features))
        self.t_train = torch.from_numpy(self.y_train.astype(np.float32))
        self.z_test = torch.from_numpy(feature_map(self.X_test, s.features))
        self.t_test = torch.from_numpy(self.y_test.astype(np.float32))
        self.losses = self._losses()

    def update(self, settings: Settings) -> None:
        """New settings: new data if they change it, a new network if they change it or the
        data; the learning rate, regularisation, batch and display change in place."""
        settings = settings.matches_problem()
        old = self.settings
        self.settings = settings
        if settings.data_key() != old.data_key() or settings.problem != old.problem:
            self._make_data()
            self._make_network()
        elif settings.net_key() != old.net_key():
            self._make_network()

    def regenerate(self) -> None:
        self.settings = self.settings.model_copy(update={"seed": (self.settings.seed + 1) % 2**31})
        self._make_data()
        self._make_network()

    def reset(self) -> None:
        self.resets = getattr(self, "resets", 0) + 1
        self._make_network()

    # ---------------------------------------------------------------------- training
    def _penalty(self) -> torch.Tensor:
        s = self.settings
        if s.regularization == "none" or s.reg_rate == 0:
            return torch.zeros(())
        weights = [m.weight for m in self.net.modules() if isinstance(m, nn.Linear)]
        if s.regularization == "L1":
            return s.reg_rate * sum(w.abs().sum() for w in weights)
        return 0.5 * s.reg_rate * sum(w.pow(2).sum() for w in weights)

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` epochs (the site's one step is one epoch)."""
        s = self.settings
        for _ in range(epochs):
            n = len(self.z_train)
            for start in range(0, n, s.batch):
                z, t = self.z_train[start : start + s.batch], self.t_train[start : start + s.batch]
                loss = 0.5 * (output(self.net, z, s.problem) - t).pow(2).mean() + self._penalty()
                self.net.zero_grad(set_to_none=True)
                loss.backward()
                with torch.no_grad():
                    for p in self.net.parameters():
                        if p.grad is not None:
                            p.add_(p.grad, alpha=-s.lr)
            self.epoch += 1
            self.losses = self._losses()
            self.history.append((self.epoch, *self.losses))
        if len(self.history) > HISTORY:
            self.history = self.history[::2]

    @torch.no_grad()
    def _losses(self) -> tuple[float, float]:
        s = self.settings
        out = []
        for z, t in ((self.z_train, self.t_train), (self.z_test, self.t_test)):
            value = 0.5 * (output(self.net, z, s.problem) - t).pow(2).mean()
            out.append(float(value) if torch.isfinite(value) else float("nan"))
        return out[0], out[1]

    # ----------------------------------------------------------------------- drawing
    @torch.no_grad()
    def maps(self) -> dict:
        """Heat maps over [-6, 6]^2 (row = x2 from -6 up, column = x1): the output, each input
        feature, each hidden neuron; base64 bytes of values in [-1, 1]."""
        s = self.settings
        _, grid = domain_grid(OUTPUT_RES)
        out = output(self.net, torch.from_numpy(feature_map(grid, s.features)), s.problem)
        if s.discretize:
            out = torch.sign(out)
        _, small = domain_grid(NEURON_RES)
        z = torch.from_numpy(feature_map(small, s.features))
        feats = [_quantise(z[:, i].numpy() / max(1e-9, float(z[:, i].abs().max())))
                 for i in range(z.shape[1])]  # fmt: skip
        neurons: list[list[str]] = []
        h = z
        modules = list(self.net.net)
        for i in range(0, len(modules) - 1, 2):
            h = modules[i + 1](modules[i](h))
            neurons.append([_quantise(h[:, j].numpy()) for j in range(h.shape[1])])
        return {"output": _quantise(out.numpy()), "features": feats, "neurons": neurons}

    def weights(self) -> list[list[list[float]]]:
        """Per layer, the weight matrix ``(out, in)`` (rounded) for the links."""
        return [
            np.round(m.weight.detach().numpy().astype(np.float64), 4).tolist()
            for m in self.net.modules()
            if isinstance(m, nn.Linear)
        ]

    def points(self) -> dict:
        def pack(X, y):
            return np.round(np.column_stack([X, y]), 3).tolist()

        return {
            "type": "data",
            "version": self.data_version,
            "train": pack(self.X_train, self.y_train),
            "test": pack(self.X_test, self.y_test),
        }

    def state(self) -> dict:
        train, test = self.losses
        return {
            "type": "state",
            "epoch": self.epoch,
            "train_loss": train,
            "test_loss": test,
            "history": self.history[-HISTORY:],
            "maps": self.maps(),
            "weights": self.weights(),
            "settings": self.settings.model_dump(),
            "data_version": self.data_version,
            "talk": talk_point(self.settings, train, test, self.epoch),
        }

    # ------------------------------------------------------------------------ export
    def export(self) -> bytes:
        """The network as safetensors bytes, its settings in the metadata (loadable by
        :func:`load_network`)."""
        from safetensors.torch import save

        meta = {
            "flowlearn_output": "playground network",
            "settings": json.dumps(self.settings.model_dump()),
            "epoch": str(self.epoch),
        }
        tensors = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        return save(tensors, metadata=meta)

    def code(self) -> str:
        return pytorch_code(self.settings)


def load_network(source: str | os.PathLike[str] | bytes) -> tuple[MLP, Settings]:
    """A network exported from the playground (a path or the file's bytes) and its settings; a
    ValueError says what is wrong with a file that is not one."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_bytes

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        # safetensors reads metadata only from files: its header is 8 bytes of length + JSON
        (n,) = struct.unpack("<Q", data[:8])
        meta = json.loads(data[8 : 8 + n]).get("__metadata__", {})
        tensors = load_bytes(data)
    except (SafetensorError, ValueError, struct.error) as exc:
        raise ValueError(f"not a safetensors file: {exc}") from None
    if meta.get("flowlearn_output") != "playground network":
        raise ValueError("a safetensors file, but not a network exported by the playground")
    settings = Settings.model_validate(json.loads(meta["settings"]))
    net = MLP(len(settings.features), settings.hidden, 1, settings.activation)
    net.load_state_dict(tensors)
    return net.eval(), settings


def predict(net: MLP, settings: Settings, X: np.ndarray) -> np.ndarray:
    """The exported network's output at points ``X`` ``(n, 2)``: ``tanh`` for classification
    (the sign is the class: +1 blue, -1 orange), the value for regression."""
    with torch.no_grad():
        z = torch.from_numpy(feature_map(np.asarray(X, dtype=np.float32), settings.features))
        return output(net, z, settings.problem).numpy()


_FEATURE_CODE = {
    "x1": "x1",
    "x2": "x2",
    "x1^2": "x1 ** 2",
    "x2^2": "x2 ** 2",
    "x1*x2": "x1 * x2",
    "sin(x1)": "torch.sin(x1)",
    "sin(x2)": "torch.sin(x2)",
}
_ACT_CODE = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()", "linear": None}


def pytorch_code(s: Settings) -> str:
    """Plain PyTorch that builds and trains the network on screen as the playground does
    (the data from flowlearn's generators); runnable as it is."""
    layers = []
    width = len(s.features)
    for h in s.hidden:
        layers.append(f"    nn.Linear({width}, {h}),")
        if _ACT_CODE[s.activation]:
            layers.append(f"    {_ACT_CODE[s.activation]},")
        width = h
    layers.append(f"    nn.Linear({width}, 1),")
    feats = ", ".join(_FEATURE_CODE[f] for f in s.features)
    out = "torch.tanh(net(z)[:, 0])" if s.problem == "classification" else "net(z)[:, 0]"
    if s.regularization == "none" or s.reg_rate == 0:
        penalty = "0.0"
    elif s.regularization == "L1":
        penalty = f"{s.reg_rate!r} * sum(w.abs().sum() for w in weights)"
    else:
        penalty = f"0.5 * {s.reg_rate!r} * sum(w.pow(2).sum() for w in weights)"
    return f"""import torch
from torch import nn

from flowlearn.data.playground import make_dataset, train_test_split

X, y = make_dataset({s.dataset!r}, n_samples={s.points!r}, noise={s.noise / 100!r}, seed={s.seed})
(X_train, y_train), (X_test, y_test) = train_test_split(X, y, train_fraction={s.ratio / 100!r},
                                                        seed={s.seed})


def features(X):
    x1, x2 = torch.as_tensor(X[:, 0]), torch.as_tensor(X[:, 1])
    return torch.stack([{feats}], dim=1).float()


net = nn.Sequential(
{chr(10).join(layers)}
)
for m in net.modules():  # the playground's initial state
    if isinstance(m, nn.Linear):
        nn.init.uniform_(m.weight, -0.5, 0.5)
        nn.init.constant_(m.bias, 0.1)
weights = [m.weight for m in net.modules() if isinstance(m, nn.Linear)]
optimizer = torch.optim.SGD(net.parameters(), lr={s.lr!r})
z_train, t_train = features(X_train), torch.as_tensor(y_train).float()
z_test, t_test = features(X_test), torch.as_tensor(y_test).float()


def predict(z):
    return {out}


for epoch in range(1, 101):  # one epoch: every training point once, in batches of {s.batch}
    for i in range(0, len(z_train), {s.batch}):
        z, t = z_train[i : i + {s.batch}], t_train[i : i + {s.batch}]
        loss = 0.5 * (predict(z) - t).pow(2).mean() + {penalty}
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        train_loss = 0.5 * (predict(z_train) - t_train).pow(2).mean().item()
        test_loss = 0.5 * (predict(z_test) - t_test).pow(2).mean().item()
print(f"epoch {{epoch}}: training loss {{train_loss:.3f}}, test loss {{test_loss:.3f}}")
"""


__all__ = [
    "DATASETS",
    "LEARNING_RATES",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "MAX_POINTS",
    "REG_RATES",
    "Session",
    "Settings",
    "load_network",
    "predict",
    "pytorch_code",
]
