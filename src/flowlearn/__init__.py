"""flowlearn: does deep learning solve your flow problem? Measurements, not hype.

Layers (each imports only from those listed before it): ``safety``, ``physics``, ``data``,
``models``, ``baselines``, ``training``, ``evaluation``, ``experiments``, ``report``, ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flowlearn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
