"""The `ModelCard` artifact type."""

from __future__ import annotations

from tfx.types import artifact


class ModelCard(artifact.Artifact):
    """A model card rendered from MLMD lineage and human-written content.

    On-disk layout under the artifact URI:

    - `model_card.json`: the card, valid against `mct_component/schemas/model_card.schema.json`.
    - `model_card.html`: self-contained page (inline CSS, no network resources).
    - `model_card.md`: Markdown rendering.

    Only the formats requested through `output_formats` are written. Custom properties
    summarise the card for MLMD queries: `model_name`, `model_version`, `model_uri`,
    `status`, `formats`, `blessed` (when known) and one `metric:<name>` per overall metric
    (an exact decimal string: MLMD's SQLite backend rounds doubles to six digits).
    """

    # Kubeflow Pipelines v2 / Vertex AI: TFX compiles a non-TFX artifact type to the
    # generic `tfx.Artifact` instance schema titled with TYPE_NAME, rejects names that are
    # not a `<namespace>.<Title>` schema title, and the container entrypoint imports the
    # title as a `<module>.<class>` path to rebuild the artifact. "mct_component.ModelCard"
    # is both (the package exports `ModelCard`); it is also the MLMD type name everywhere.
    TYPE_NAME = "mct_component.ModelCard"
