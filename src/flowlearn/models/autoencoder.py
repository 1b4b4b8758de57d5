"""The convolutional autoencoder of the talk's closing Keras code (F. Chollet, "Building
Autoencoders in Keras", 2016), layer for layer.

Keras::

    x = Conv2D(16, (3, 3), activation='relu', padding='same')(input_img)   # 28x28x16
    x = MaxPooling2D((2, 2), padding='same')(x)                            # 14x14x16
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)            # 14x14x8
    x = MaxPooling2D((2, 2), padding='same')(x)                            # 7x7x8
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)            # 7x7x8
    encoded = MaxPooling2D((2, 2), padding='same')(x)                      # 4x4x8 = 128 numbers
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(encoded)      # 4x4x8
    x = UpSampling2D((2, 2))(x)                                            # 8x8x8
    x = Conv2D(8, (3, 3), activation='relu', padding='same')(x)            # 8x8x8
    x = UpSampling2D((2, 2))(x)                                            # 16x16x8
    x = Conv2D(16, (3, 3), activation='relu')(x)                           # 14x14x16 (valid)
    x = UpSampling2D((2, 2))(x)                                            # 28x28x16
    decoded = Conv2D(1, (3, 3), activation='sigmoid', padding='same')(x)   # 28x28x1

4,385 parameters, as Keras's summary. Keras's ``padding='same'`` max-pooling of 7x7 pads one
row and column at the bottom/right (with -inf): ``ceil_mode=True`` does the same here.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvAutoencoder(nn.Module):
    """(N, 1, 28, 28) images in [0, 1] -> reconstructions in [0, 1], same shape.

    ``encode`` gives the (N, 8, 4, 4) code (128 numbers per image); ``decode`` inverts it.
    ``widths=(16, 8, 8)`` is the Keras tutorial's; its denoising model uses ``(32, 32)``-wide
    layers, here any widths may be given.
    """

    def __init__(self, widths: tuple[int, int, int] = (16, 8, 8)) -> None:
        super().__init__()
        a, b, c = widths
        relu = nn.ReLU
        self.encoder = nn.Sequential(
            nn.Conv2d(1, a, 3, padding=1), relu(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(a, b, 3, padding=1), relu(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(b, c, 3, padding=1), relu(), nn.MaxPool2d(2, ceil_mode=True),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), relu(), nn.Upsample(scale_factor=2),
            nn.Conv2d(c, b, 3, padding=1), relu(), nn.Upsample(scale_factor=2),
            nn.Conv2d(b, a, 3), relu(), nn.Upsample(scale_factor=2),
            nn.Conv2d(a, 1, 3, padding=1), nn.Sigmoid(),
        )  # fmt: skip

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
