"""``History``: what ``fit`` records, epoch by epoch."""

__all__ = ["History"]


class History(dict):
    """Per-epoch records of a training run: ``history["loss"][e]`` is the mean training loss of epoch ``e``.

    Keys: ``"loss"``, ``"lr"`` always; ``"accuracy"`` for classification; ``"val_loss"`` and
    ``"val_accuracy"`` when validation data was given. ``epoch_seconds`` holds the wall-clock time of each
    epoch and ``step_losses`` the loss of every step (kept out of the dict: the first differs from run to
    run, the second is long).

    Early stopping (``fit(..., validation_data=..., patience=k, restore_best=True)``) fills two attributes,
    counted from 1 like the progress bar: ``best_epoch``, the epoch with the lowest validation loss
    (``history["val_loss"][history.best_epoch - 1]``; None without validation data), and
    ``stopped_epoch``, the epoch after which ``patience`` stopped the run (None if it ran to the end).
    """

    def __init__(self):
        super().__init__()
        self.epoch_seconds = []
        self.step_losses = []
        self.best_epoch = None
        self.stopped_epoch = None

    @property
    def epochs(self):
        """How many epochs were recorded."""
        return len(self.get("loss", []))

    def record(self, **values):
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        last = ", ".join(f"{key}={values[-1]:.4g}" for key, values in self.items())
        return f"History({self.epochs} epochs; last: {last})"
