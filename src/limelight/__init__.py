"""limelight — an open-source ML platform for streaming services on one data spine."""

__version__ = "0.1.0"
__all__ = ["__version__"]
