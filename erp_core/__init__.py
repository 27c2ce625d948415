"""The kernel of the ERP: plugins, entities, workflows and permissions; never orders or stock."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("erp-core")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
