"""The code-generated int8 runtime: an int8 .tflite lowered to plain C99 calling kernels in
``firmware/runtime/native`` — no interpreter, weights laid out for the kernels, a static memory plan."""
