"""ldseg: LaunchDarkly Data Export (destinations and flag export toggles) as code."""

__version__ = "0.1.0"
