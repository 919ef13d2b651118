"""Building firmware: PlatformIO offline, and the TensorFlow Lite Micro library it links."""
