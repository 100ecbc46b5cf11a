"""Synthetic control and synthetic difference-in-differences: one municipality (or a few adopting
together) against a weighted twin of donors that never adopted."""
