"""The one rule that calls a training run diverged, used by ``fit`` and by every helper built on it.

A run has diverged when the loss becomes NaN or infinite, or when an epoch's mean training loss exceeds
``DIVERGENCE_FACTOR`` times the *reference loss*: the larger of the model's loss when training starts and
the loss of a know-nothing guess (uniform probabilities: log C for cross-entropy, log 2 for binary
cross-entropy; always predicting the mean of y for ``MSELoss``, the median for ``L1Loss``).
"""

import math

from ..errors import DivergenceError

__all__ = ["DIVERGENCE_FACTOR", "reference_loss", "is_diverged", "divergence_error"]

DIVERGENCE_FACTOR = 10.0


def reference_loss(start, know_nothing):
    """max(loss when training starts, loss of a know-nothing guess); the guess alone if ``start`` is not finite."""
    return max(start, know_nothing) if math.isfinite(start) else know_nothing


def is_diverged(mean_loss, reference):
    """The rule: NaN/inf, or above ``DIVERGENCE_FACTOR`` x ``reference``."""
    return not math.isfinite(mean_loss) or (reference > 0 and mean_loss > DIVERGENCE_FACTOR * reference)


def divergence_error(what, epoch, step, batches_per_epoch, lr, *, who="fit"):
    """The ``DivergenceError`` that names where the run blew up and what to try."""
    batch = "" if batches_per_epoch is None else \
        f" (batch {(step - 1) % batches_per_epoch + 1} of {batches_per_epoch})"
    return DivergenceError(
        f"Training diverged: {what} at epoch {epoch}, step {step}{batch}. "
        f"The learning rate {lr:g} is probably too large: try {lr / 10:g}. ({who} stops a run when the loss "
        f"becomes NaN or infinite, or when an epoch's mean training loss exceeds {DIVERGENCE_FACTOR:g}x the "
        f"reference: the larger of the loss before training and that of a know-nothing guess.)"
    )
