"""Checks for what the widgets are given: a model of the right kind, a non-empty list or dict.

A widget renders every picture when it is built, so a wrong argument would otherwise end deep inside
matplotlib, ipywidgets or the model (an ``AttributeError``, a ``TraitError``, a division by zero).
These checks run first and say which argument is wrong and what to pass instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError

__all__ = ["choices", "mapping", "model_with", "names_collection"]


def choices(values, name, who):
    """``values`` as a non-empty list (the options of one control)."""
    if isinstance(values, str):
        raise ConfigError(f"{who}: {name} must be a list of choices, got the single string {values!r}: "
                          f"write [{values!r}]")
    try:
        values = list(values)
    except TypeError:
        raise ConfigError(f"{who}: {name} must be a list of choices, got {type(values).__name__} "
                          f"{values!r:.60}") from None
    if not values:
        raise ConfigError(f"{who}: {name} is empty, so the widget would have nothing to show: give at "
                          f"least one choice (or leave {name} out for the default)")
    return values


def mapping(value, name, who, *, example):
    """``value`` as a non-empty dict, e.g. ``{"bigram": model}``."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{who}: {name} must be a dict such as {example}, got {type(value).__name__}")
    if not value:
        raise ConfigError(f"{who}: {name} is an empty dict, so there is nothing to show: pass at least one "
                          f"entry, such as {example}")
    return value


def model_with(model, who, *, needs, what, example):
    """``model`` unchanged, after checking it is an instance that has every attribute in ``needs``.

    ``what`` says which models fit (``"a trained AttentionTagger"``), ``example`` how to build one.
    """
    if isinstance(model, type):
        raise ConfigError(f"{who} expects {what}, got the class {model.__name__} itself: build and train "
                          f"a model first ({example}) and pass it")
    missing = [attribute for attribute in needs if not hasattr(model, attribute)]
    if missing:
        raise ConfigError(f"{who} expects {what}, got {type(model).__name__}, which has no "
                          f"{', '.join(missing)}: pass the model the chapter trains ({example})")
    return model


def names_collection(names, name, who):
    """``names`` as a frozenset of strings (a single string would become a set of letters)."""
    if isinstance(names, str):
        raise ConfigError(f"{who}: {name} must be a list of names, got the single string {names!r:.40}: "
                          f"pass a list such as splits.train")
    try:
        names = frozenset(names)
    except TypeError:
        raise ConfigError(f"{who}: {name} must be a list of names (strings), got {type(names).__name__}") from None
    if any(not isinstance(n, str) for n in names):
        raise ConfigError(f"{who}: {name} must hold names as strings, such as splits.train")
    return names
