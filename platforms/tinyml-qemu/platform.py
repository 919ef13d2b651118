"""PlatformIO dev-platform for tinyml's emulated boards (no packages to download)."""

from platformio.public import PlatformBase


class TinymlqemuPlatform(PlatformBase):
    pass
