"""Datasets: the Speech Commands layout, its download, and the synthetic espeak-ng set."""
