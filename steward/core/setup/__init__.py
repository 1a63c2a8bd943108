"""Composition above the facade: seeding the demo and checking a process may serve."""
