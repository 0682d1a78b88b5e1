"""HTC sessions: applications, sessions, tasks and warm service instances (Symphony's nouns)."""

from hal.htc.app import Application
from hal.htc.context import common_data

__all__ = ["Application", "common_data"]
