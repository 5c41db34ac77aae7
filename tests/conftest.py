"""Suite-wide pytest configuration."""

# The recorders run only where PyTorch is installed (they write the committed reference data);
# pytest's doctest collection must not import them.
collect_ignore_glob = ["reference/record_*.py"]
