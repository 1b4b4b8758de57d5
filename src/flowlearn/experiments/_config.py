"""Config files and ``--set key=value`` overrides, with errors that name the field and the limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from flowlearn.experiments._base import Experiment, ExperimentConfig


class ConfigError(ValueError):
    """A config that cannot be built; the message names the field, the value and what is allowed."""


def field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every settable key of ``model``, nested models as ``a.b``."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            names.extend(field_names(ann, f"{prefix}{name}."))
        else:
            names.append(f"{prefix}{name}")
    return names


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=3"`` -> (["a", "b"], 3); the value is read as YAML (numbers, booleans, lists)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_overrides(
    data: dict[str, Any], overrides: list[str], model: type[BaseModel]
) -> dict[str, Any]:
    """Apply ``--set`` overrides to ``data`` (a copy is returned); unknown keys are errors."""
    valid = field_names(model)
    out = _deep_copy(data)
    for text in overrides:
        path, value = parse_override(text)
        dotted = ".".join(path)
        if dotted not in valid and not any(v.startswith(dotted + ".") for v in valid):
            raise ConfigError(
                f"unknown config key {dotted!r}; valid keys: {', '.join(sorted(valid))}"
            )
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}


def format_validation_error(err: ValidationError, model: type[BaseModel]) -> str:
    """One line per bad field: ``name = value: what is wrong`` (pydantic states the limit)."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "config"
        if e["type"] == "extra_forbidden":
            valid = ", ".join(sorted(field_names(model)))
            lines.append(f"unknown config key {loc!r}; valid keys: {valid}")
        elif e["type"] == "missing":
            lines.append(f"{loc}: missing")
        else:
            lines.append(f"{loc} = {e.get('input')!r}: {e['msg']}")
    return "\n".join(lines)


def build_config(
    experiment: Experiment,
    *,
    quick: bool = False,
    config_file: Path | None = None,
    overrides: list[str] | None = None,
    seed: int | None = None,
    device: str | None = None,
) -> ExperimentConfig:
    """The complete config of a run, from the experiment's defaults or a saved ``config.yaml``.

    Order: defaults plus ``--quick`` overrides, or the file (already complete); then ``--set``
    overrides; then ``--seed`` / ``--device``.
    """
    if config_file is not None:
        try:
            data = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError:
            raise ConfigError(
                f"config file {config_file} is not text (not UTF-8): give a run's config.yaml"
            ) from None
        except (OSError, yaml.YAMLError) as exc:
            reason = " ".join(str(exc).split())
            raise ConfigError(f"cannot read config file {config_file}: {reason}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {config_file} must hold a mapping of keys to values")
        named = data.pop("experiment", experiment.name)
        if named != experiment.name:
            raise ConfigError(
                f"config file {config_file} is for experiment {named!r}, not {experiment.name!r}"
            )
        if quick:
            raise ConfigError(
                "--quick cannot be combined with --config: a saved config is already complete "
                "(its 'quick' key says which mode it ran)"
            )
    else:
        data = dict(experiment.quick) if quick else {}
        data["quick"] = quick
    data = apply_overrides(data, overrides or [], experiment.config)
    if seed is not None:
        data["seed"] = seed
    if device is not None:
        data["device"] = device
    try:
        return experiment.config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, experiment.config)) from None
