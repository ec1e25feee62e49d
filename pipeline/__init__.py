"""newsbeam: the launcher side (command line, options, configuration, pipeline graph)."""

__version__ = "0.1.0"
