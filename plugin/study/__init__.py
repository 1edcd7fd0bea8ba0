"""The discography study: spinal levels, the study model and its validation."""
