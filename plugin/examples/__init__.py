"""Example studies shipped with the product (used by the README's run command and tests)."""
