"""newsbeam stages: one module per stage, each pure functions plus a thin composite PTransform."""
