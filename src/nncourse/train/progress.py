"""The progress bar of a training run (tqdm), one for every helper."""

__all__ = ["progress_bar"]


def progress_bar(total, quiet, *, unit="epoch", desc="training"):
    """A tqdm bar counting ``total`` ``unit``s, or None when ``quiet``."""
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc)
