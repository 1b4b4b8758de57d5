"""Multi-layer perceptrons: the playground's networks and the capacity experiment's."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "linear": nn.Identity,
}


class MLP(nn.Module):
    """Fully connected network ``in_features -> hidden[0] -> ... -> out_features``.

    Args:
        in_features: size of the input vector (2 for the playground's (X1, X2)).
        hidden: widths of the hidden layers; ``()`` gives a single linear layer (one neuron per
            output), as the playground with no hidden layer. A good start is ``(8, 8)``.
        out_features: size of the output (1 for a logit or a regression value).
        activation: ``tanh`` (the playground's default), ``relu``, ``sigmoid``, ``gelu`` (smooth,
            for regression of smooth maps such as chemical source terms) or ``linear``.

    Shapes: ``(batch, in_features) -> (batch, out_features)``; no output activation.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (8, 8),
        out_features: int = 1,
        activation: str = "tanh",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation {activation!r} unknown; choose one of {', '.join(ACTIVATIONS)}"
            )
        if in_features < 1 or out_features < 1 or any(w < 1 for w in hidden):
            raise ValueError(
                f"layer widths must be >= 1, got in={in_features}, hidden={tuple(hidden)}, "
                f"out={out_features}"
            )
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
