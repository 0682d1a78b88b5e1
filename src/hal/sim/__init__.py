"""The trace-driven simulator: a virtual clock around the same engine the controller uses."""
