"""The local web playground (``flowlearn playground``): playground.tensorflow.org's controls,
trained by flowlearn's PyTorch code on the server and drawn live in the browser.

Public surface: :func:`create_app`, :func:`serve`, :class:`Settings`, :class:`Session`,
:func:`load_network`, :func:`predict`, :func:`pytorch_code`.
"""

from flowlearn.playground.server import create_app, serve
from flowlearn.playground.session import Session, Settings, load_network, predict, pytorch_code

__all__ = ["Session", "Settings", "create_app", "load_network", "predict", "pytorch_code", "serve"]
