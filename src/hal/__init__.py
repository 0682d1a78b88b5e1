"""HAL, the Hybrid Adaptive Learning Scheduler."""

__version__ = "0.1.0"
