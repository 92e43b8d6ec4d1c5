"""Application services: one plain function per job, called by every door (CLI, flows, demo, tests)."""
