"""The benchmark scenarios, one module per area."""
