"""Simple Cone Search 1.03, one service per positional table."""
