"""The playground: a small network on 2-D toy data, retrained and redrawn whenever a control moves.

``Playground(settings)`` is the live widget (needs a running kernel). Its controls are generated
from the ``PlaygroundSettings`` table; each change makes a new frozen settings object, trains with
``train_playground`` (a pure function) and redraws a reused figure.

``static_playground()`` is the version for the published book: it trains a grid of learning rates x
hidden-layer counts at build time and flips between the pictures in the browser, with no kernel.
"""

from __future__ import annotations

import math
import time

import ipywidgets as W

from ..errors import ConfigError
from . import arguments
from .render import PlaygroundFigure
from .settings import Control, PlaygroundSettings, controls
from .static import PAGE_PNG, Axis, _image, precomputed_widget
from .training import format_number, train_playground

__all__ = ["Playground", "make_control", "static_playground"]

_STYLE = {"description_width": "120px"}
_GROUPS = (("Data", ("dataset", "noise", "samples", "test_fraction")),
           ("Network", ("hidden_layers", "neurons", "activation")),
           ("Training", ("learning_rate", "optimizer", "batch_size", "epochs", "l2", "backend",
                         "seed")))


def make_control(name: str, default, c) -> W.ValueWidget:
    """One widget for one row of the settings table (``settings.controls()``)."""
    names = [n for n, _, _ in controls()]
    if not isinstance(name, str) or name not in names:
        raise ConfigError(f"make_control: name must be the name of a playground setting, one of {names}, got "
                          f"{name!r:.40}")
    if not isinstance(c, Control):
        raise ConfigError(f"make_control: c must be the Control of that setting (the third item of a row of "
                          f"controls()), got {type(c).__name__}")
    common = dict(description=c.label, value=default, style=_STYLE,
                  layout=W.Layout(width="320px"), tooltip=c.help or None)
    sliders = dict(continuous_update=False)      # retrain on release, not on every pixel of a drag
    if c.kind == "dropdown":
        w = W.Dropdown(options=list(c.choices), **common)
    elif c.kind == "toggle":
        w = W.ToggleButtons(options=list(c.choices), **{
            **common, "style": {**_STYLE, "button_width": "90px"}, "layout": W.Layout()})
    elif c.kind == "slider" and c.log:
        w = W.FloatLogSlider(base=10, min=math.log10(c.low), max=math.log10(c.high), step=c.step,
                             readout_format=".3g", **common, **sliders)
    elif c.kind == "slider":
        decimals = max(0, -math.floor(math.log10(c.step)))      # step 0.05 -> 2 decimals
        w = W.FloatSlider(min=c.low, max=c.high, step=c.step, readout_format=f".{decimals}f",
                          **common, **sliders)
    elif c.kind == "int_slider":
        w = W.IntSlider(min=int(c.low), max=int(c.high), step=int(c.step or 1), **common, **sliders)
    elif c.kind == "choice_slider":
        w = W.SelectionSlider(options=list(c.choices), **common, **sliders)
    elif c.kind == "int_text":
        w = W.BoundedIntText(min=int(c.low), max=int(c.high), **common)
    else:
        raise ConfigError(f"setting {name!r}: unknown control kind {c.kind!r}")
    return w


def _clean(value, c):
    """Tidy a value coming back from the browser: 0.15000000000000002 -> 0.15, 10**-1.5 -> 0.0316."""
    if isinstance(value, float):
        if c.log:
            return float(f"{value:.3g}")
        return round(value, 6)
    return value


class Playground:
    """The live playground. Display it as the last expression of a cell (or ``display(pg)``).

    - ``pg.settings``: the current ``PlaygroundSettings``; assigning a new one moves the controls
      and retrains once.
    - ``pg.widgets``: ``{setting name: widget}``; moving one retrains once.
    - ``pg.result``: the latest ``PlaygroundResult``; ``pg.timings``: seconds of the last
      ``train`` and ``draw``.
    - ``trainer``: the function called to train (default ``train_playground``); tests pass a fake.
    """

    def __init__(self, settings: PlaygroundSettings | None = None, *, trainer=train_playground,
                 figure: PlaygroundFigure | None = None):
        if settings is None:
            settings = PlaygroundSettings()
        if not isinstance(settings, PlaygroundSettings):
            raise ConfigError(f"Playground expects PlaygroundSettings, got {type(settings).__name__} as settings: "
                              f"write Playground(PlaygroundSettings(learning_rate=0.03, ...)), or Playground() "
                              f"for the defaults")
        if not callable(trainer):
            raise ConfigError(f"Playground: trainer must be a function of the settings that returns a "
                              f"PlaygroundResult (the default is train_playground), got {type(trainer).__name__}")
        if figure is not None and not isinstance(figure, PlaygroundFigure):
            raise ConfigError(f"Playground: figure must be a PlaygroundFigure (or None for a new one), got "
                              f"{type(figure).__name__}")
        self._settings = settings
        self._trainer = trainer
        self._syncing = False
        self.figure = figure or PlaygroundFigure()
        self.result = None
        self.retrain_count = 0
        self.timings = {}
        self._specs = {name: c for name, _, c in controls()}

        self.widgets = {}
        for name, _, c in controls():
            w = make_control(name, getattr(settings, name), c)
            w.observe(self._on_change, names="value")
            self.widgets[name] = w
        self.image = _image(b"")
        self.status = W.HTML()
        self.code = W.Textarea(disabled=False, layout=W.Layout(width="100%", height="64px"))
        self.rerun = W.Button(description="Retrain", icon="refresh", tooltip="train again")
        self.rerun.on_click(lambda _: self.update())
        groups = [W.VBox([W.HTML(f"<b>{title}</b>")] + [self.widgets[n] for n in names])
                  for title, names in _GROUPS]
        # controls on the left, pictures on the right; on a narrow page the pictures wrap below
        self.box = W.HBox([W.VBox(groups + [self.rerun], layout=W.Layout(width="340px")),
                           W.VBox([self.image, self.status,
                                   W.HTML("<small>Reproduce this run in code:</small>"), self.code],
                                  layout=W.Layout(flex="1 1 480px", max_width="700px"))],
                          layout=W.Layout(flex_flow="row wrap"))
        self.update()

    # -- settings <-> widgets ------------------------------------------------------------------
    @property
    def settings(self) -> PlaygroundSettings:
        return self._settings

    @settings.setter
    def settings(self, new: PlaygroundSettings):
        if not isinstance(new, PlaygroundSettings):
            raise ConfigError(f"settings must be PlaygroundSettings, got {type(new).__name__}")
        self._syncing = True          # moving the widgets below must not retrain once per widget
        try:
            for name, w in self.widgets.items():
                w.value = getattr(new, name)
        finally:
            self._syncing = False
        self._settings = new
        self.update()

    def _on_change(self, change):
        if self._syncing:
            return
        name = next(n for n, w in self.widgets.items() if w is change["owner"])
        value = _clean(change["new"], self._specs[name])
        if value == getattr(self._settings, name):
            return
        try:
            self._settings = self._settings.replace(**{name: value})
        except ConfigError as err:     # e.g. a value typed into a text box: say so, do not crash
            self.status.value = f"<span style='color:#b00020'>{err}</span>"
            return
        self.update()

    # -- train and draw -------------------------------------------------------------------------
    def update(self):
        """Retrain with the current settings and redraw (what every control change does)."""
        t0 = time.perf_counter()
        self.result = self._trainer(self._settings)
        self.retrain_count += 1
        t1 = time.perf_counter()
        self.image.value = self.figure.render(self.result)
        t2 = time.perf_counter()
        self.timings = {"train": t1 - t0, "draw": t2 - t1}
        r = self.result
        if getattr(r, "diverged", False):
            self.status.value = f"<b style='color:#b00020'>{r.message}</b>"
        else:
            self.status.value = (f"{r.summary()} <small>(trained in {1000 * (t1 - t0):.0f} ms, "
                                 f"drawn in {1000 * (t2 - t1):.0f} ms)</small>")
        self.code.value = repr(self._settings)
        return self.result

    def __repr__(self):
        return f"Playground({self._settings!r})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)          # the settings, not a dump of every widget
        return bundle


def static_playground(base: PlaygroundSettings | None = None, *,
                      learning_rates=(0.001, 0.01, 0.03, 0.3, 3.0),
                      hidden_layers=(0, 1, 2, 3, 4)) -> W.VBox:
    """The playground for a page without a kernel: learning rate x hidden layers, precomputed.

    Trains ``len(learning_rates) * len(hidden_layers)`` networks from ``base`` (default settings),
    renders each to a PNG, and links a learning-rate slider and a layer-count slider to nested Stacks
    (see ``nncourse.widgets.static``). The learning-rate slider's readout shows the value.
    """
    base = PlaygroundSettings() if base is None else base
    if not isinstance(base, PlaygroundSettings):
        raise ConfigError(f"static_playground expects PlaygroundSettings as base, got {type(base).__name__}: "
                          f"write static_playground(PlaygroundSettings(dataset='spirals', ...))")
    figure = PlaygroundFigure()
    lrs = arguments.choices(learning_rates, "learning_rates", "static_playground")
    layers = arguments.choices(hidden_layers, "hidden_layers", "static_playground")
    for name, values, field in (("learning_rates", lrs, "learning_rate"), ("hidden_layers", layers, "hidden_layers")):
        for i, value in enumerate(values):       # validate every value before spending time training
            try:
                base.replace(**{field: value})
            except ConfigError as error:
                raise ConfigError(f"static_playground: {name}[{i}] = {value!r:.40} is not a valid {field}: "
                                  f"{error}") from None

    def render(i_layers, i_lr):
        s = base.replace(hidden_layers=layers[i_layers], learning_rate=lrs[i_lr])
        return figure.render(train_playground(s), **PAGE_PNG)

    default_lr = base.learning_rate if base.learning_rate in lrs else lrs[0]
    default_layers = base.hidden_layers if base.hidden_layers in layers else layers[0]
    axes = [Axis("Hidden layers", layers, default=default_layers),
            Axis("Learning rate", lrs, labels=[format_number(v) for v in lrs], default=default_lr)]
    return precomputed_widget(
        axes, render,
        footer=f"<small>Precomputed for <code>{base!r}</code> with the two values above changed."
               "</small>")
