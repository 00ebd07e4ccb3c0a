"""Where the Pusher pushed the model."""

from __future__ import annotations

from mct_component import card
from mct_component.readers import source_of
from mct_component.readers.refs import ArtifactRef


def from_push(ref: ArtifactRef) -> card.Deployment:
    """Where the Pusher pushed the model, from its output properties."""
    return card.Deployment(
        pushed=ref.properties.get("pushed") == 1,
        destination=str(ref.properties.get("pushed_destination", "")),
        version=str(ref.properties.get("pushed_version", "")),
        source=source_of(ref),
    )
