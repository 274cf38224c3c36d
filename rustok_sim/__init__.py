"""Command-line shell of rustok-sim; the logic lives in model/, scenarios/, conformance/, reports/."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rustok-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
