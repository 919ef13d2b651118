"""Reading .tflite flatbuffers and running them on the host (TFLM and LiteRT interpreters)."""
