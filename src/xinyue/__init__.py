"""信阅 (xinyue): the credit service platform of a province's public libraries."""

__version__ = "0.1.0"
