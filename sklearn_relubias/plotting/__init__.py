"""scikit-learn style Display objects (matplotlib is imported only when drawing)."""

from ._comparison import SolutionComparisonDisplay
from ._displays import ActivationDisplay, GapDisplay, PatternTimelineDisplay

__all__ = [
    "ActivationDisplay",
    "GapDisplay",
    "PatternTimelineDisplay",
    "SolutionComparisonDisplay",
]
