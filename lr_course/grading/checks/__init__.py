"""The registered checks and graded tests of the three assignments (imported lazily)."""
