"""Accuracy of a KWS model on any Speech Commands-layout folder (``tinyml evaluate``)."""
