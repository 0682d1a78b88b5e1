"""Interface layer south: executors that run work on real compute."""
