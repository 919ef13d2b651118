"""MCUNet-style search: a memory model of candidate networks and a board-constrained search."""
