"""tinyml: from data to a measured int8 model running on a microcontroller."""

__version__ = "0.1.0"
