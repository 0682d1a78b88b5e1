"""The scheduling engine: pure, no I/O, no clock, no threads."""
