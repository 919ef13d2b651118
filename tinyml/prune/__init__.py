"""Structured (channel) pruning of a trained run to a board's budget."""
