"""One module per contender, each serving the same four endpoints with the same JSON bodies.

The expected answers live in `benchmarks.endpoints`; the apps compute theirs and never import
them, so a contender that answers wrongly is caught by the runner's pre-measurement check.
"""
