"""HAL's vocabulary: pure dataclasses with no I/O."""
