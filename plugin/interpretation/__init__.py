"""Interpretation of a discography study with published, versioned rule sets."""
