"""Where flowlearn keeps what it downloads and generates: the user's cache folder
(platformdirs: ``$XDG_CACHE_HOME/flowlearn`` or ``~/.cache/flowlearn`` on Linux, the platform's
own place elsewhere). Everything in it can be made again; nothing else is written there."""

from __future__ import annotations

from pathlib import Path


def cache_dir() -> Path:
    """The cache folder of flowlearn (downloads: ``<cache>/mnist`` ...)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("flowlearn", appauthor=False))


def flow_datasets_dir() -> Path:
    """The folder of generated flow datasets: the experiments' (named by their settings'
    fingerprint) and ``flowlearn dataset generate NAME``'s alike."""
    return cache_dir() / "flow-datasets"


def named_dataset(name: str) -> Path:
    """The store of the dataset called ``name`` in :func:`flow_datasets_dir`; one made by an
    earlier version in ``<cache>/datasets/`` is still found there."""
    path = flow_datasets_dir() / f"{name}.zarr"
    legacy = cache_dir() / "datasets" / f"{name}.zarr"
    return legacy if legacy.exists() and not path.exists() else path
