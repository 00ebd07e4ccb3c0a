"""Example pipelines that use mct_component (the penguin demo)."""
