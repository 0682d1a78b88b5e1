"""The `hal` command line."""
