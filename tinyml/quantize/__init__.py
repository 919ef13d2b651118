"""Full-integer int8 quantization (post-training or quantization-aware) and its report."""
