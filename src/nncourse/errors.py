"""The errors a learner can cause, each with a message that says what went wrong and how to fix it.

Every error is a ``CourseError`` (a ``ValueError``) except ``DivergenceError``, which is a
``RuntimeError`` because nothing about the *input* was wrong: training itself blew up.
"""


class CourseError(ValueError):
    """Base class of the errors raised for bad input to the course package."""


class ShapeError(CourseError):
    """An array has the wrong number of dimensions or the wrong size."""


class DTypeError(CourseError):
    """An array has the wrong dtype (integers where floats are needed, float64 into a float32 layer, ...)."""


class NonFiniteError(CourseError):
    """An input contains NaN or infinity."""


class ConfigError(CourseError):
    """An unknown name or an invalid hyper-parameter (for example a non-positive learning rate)."""


class TargetError(CourseError):
    """A target is out of range or has the wrong shape for the loss."""


class DataError(CourseError):
    """Data files are missing, truncated or corrupt."""


class ConversionError(CourseError):
    """A layer cannot be translated between the NumPy and the PyTorch back end."""


class DivergenceError(RuntimeError):
    """Training blew up: ``fit`` stops a run when the loss (or a weight) becomes NaN or infinite, or when an
    epoch's mean training loss exceeds 10x the reference loss, the larger of the loss on the training set
    before training and the loss of a know-nothing guess (log C for cross-entropy, log 2 for binary
    cross-entropy, the variance of y for MSELoss). The playground uses the same factor."""
