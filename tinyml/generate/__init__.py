"""Turn an int8 .tflite into a firmware project for a board (C arrays, op resolver, PlatformIO)."""
