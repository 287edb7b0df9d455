"""sorter: sort a folder of photos into cats/ and dogs/ with a small CNN."""

__version__ = "0.1.0"
