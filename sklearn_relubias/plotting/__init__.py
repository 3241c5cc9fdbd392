"""scikit-learn style Display objects (matplotlib is imported only when drawing)."""

from ._displays import GapDisplay, PatternTimelineDisplay

__all__ = ["GapDisplay", "PatternTimelineDisplay"]
