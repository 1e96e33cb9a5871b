"""pytest fixtures that start real servers on free loopback ports (see rushes_testing.plugin)."""
