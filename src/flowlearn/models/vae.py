"""A variational autoencoder (Kingma & Welling 2014) with a dense encoder and decoder, as the
Keras example ``variational_autoencoder.py``: 784 -> 512 -> (mu, log sigma^2) in 2-D, and back."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class VAE(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> ``(logits, mu, logvar)``.

    ``logits`` (N, 1, 28, 28) are the decoder's Bernoulli logits of a sample ``z = mu + sigma
    eps`` while training and of ``z = mu`` in eval mode; ``mu``, ``logvar`` are (N, latent).
    ``latent=2`` gives the map of the digits; ``hidden=512`` is the Keras example's.
    """

    def __init__(self, latent: int = 2, hidden: int = 512) -> None:
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 784),
            nn.Unflatten(1, (1, 28, 28)),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent points (N, latent) -> images (N, 1, 28, 28) in [0, 1] (Bernoulli means)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return self.decoder(z), mu, logvar


def negative_elbo(output: tuple[torch.Tensor, ...], target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-ELBO`` in nats per image: the binary cross-entropy summed over
    the 784 pixels plus ``KL(q(z|x) || N(0, I))``. About 140-150 nats for a 2-D latent."""
    logits, mu, logvar = output
    n = target.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
    return recon + kl
