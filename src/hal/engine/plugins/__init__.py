"""One module per policy; the registry in profile.py maps names to these classes."""
