"""Exporters: pure functions from pages of frames (as the selectors stream them) to text chunks."""
