"""Names shared by the component, its executor and driver, the CLI, the API and tests.

Channel keys are the strings TFX's `standard_component_specs` uses for the same
artifacts (`tests/test_component.py` checks they match); they are repeated here so
that importing them does not import TFX.
"""

# Input channels.
MODEL_KEY = "model"
STATISTICS_KEY = "statistics"
SCHEMA_KEY = "schema"
EVALUATION_KEY = "evaluation"
BLESSING_KEY = "blessing"
PUSHED_MODEL_KEY = "pushed_model"
TRANSFORM_GRAPH_KEY = "transform_graph"
ANOMALIES_KEY = "anomalies"
# The output channels: the card, and the push gate (a ModelBlessing for the Pusher).
MODEL_CARD_KEY = "model_card"
PUSH_BLESSING_KEY = "push_blessing"

# Execution properties set by users.
CARD_CONTENT_KEY = "card_content"
TEMPLATES_KEY = "templates"
OUTPUT_FORMATS_KEY = "output_formats"
LABEL_VOCABULARY_KEY = "label_vocabulary"
COMPLETENESS_GATE_KEY = "completeness_gate"
INHERIT_CONTENT_KEY = "inherit_content"
MAX_RISK_RATING_KEY = "max_risk_rating"
SIGNING_KEY_KEY = "signing_key"
SIGNING_CERTIFICATE_KEY = "signing_certificate"
CERTIFICATE_CHAIN_KEY = "certificate_chain"
REVIEW_POLICY_KEY = "review_policy"
# What the pipeline definition says about a run, for orchestrators without a driver.
PIPELINE_FACTS_KEY = "pipeline_facts"
# Execution properties set by the driver: the resolved lineage (JSON), or why it failed.
LINEAGE_KEY = "lineage"
LINEAGE_ERROR_KEY = "lineage_error"
# Set by the driver: the newest approved card of the pipeline, to inherit content from.
INHERITED_FROM_KEY = "inherited_from"
# Set by the driver under a review policy: why the newest approved card was not inherited.
INHERITANCE_REFUSED_KEY = "inheritance_refused"

# Custom properties of the ModelCard artifact.
MODEL_NAME_PROPERTY = "model_name"
MODEL_VERSION_PROPERTY = "model_version"
MODEL_URI_PROPERTY = "model_uri"
STATUS_PROPERTY = "status"
FORMATS_PROPERTY = "formats"
BLESSED_PROPERTY = "blessed"
# The MLMD id of the model the card describes, its version and its JSON's SHA-256.
MODEL_ID_PROPERTY = "model_id"
CARD_VERSION_PROPERTY = "card_version"
SHA256_PROPERTY = "sha256"
# The card's completeness score (a decimal string), and why the push gate said no.
COMPLETENESS_PROPERTY = "completeness"
# The card's risk rating, and its headline metric as JSON (see `summary`).
RISK_RATING_PROPERTY = "risk_rating"
HEADLINE_METRIC_PROPERTY = "headline_metric"
PUSH_GATE_REASONS_PROPERTY = "push_gate_reasons"
# One per overall metric: "metric:<label>", an exact decimal string.
METRIC_PROPERTY_PREFIX = "metric:"

# What TFX records: the Evaluator's ModelBlessing custom properties (as in
# tfx.components.evaluator.constants; `blessed` is BLESSED_PROPERTY, 0 or 1) and the
# context types its orchestrators give each pipeline and run.
MODEL_BLESSING_TYPE = "ModelBlessing"
CURRENT_MODEL_PROPERTY = "current_model"
CURRENT_MODEL_ID_PROPERTY = "current_model_id"
PIPELINE_CONTEXT_TYPE = "pipeline"
PIPELINE_RUN_CONTEXT_TYPE = "pipeline_run"

# Files of a card directory (the ModelCard artifact's URI).
CARD_JSON_FILE = "model_card.json"
CARD_HTML_FILE = "model_card.html"
CARD_MARKDOWN_FILE = "model_card.md"
CARD_PDF_FILE = "model_card.pdf"
CHART_DIR = "charts"
EXPLANATION_METADATA_FILE = "explanation_metadata.json"
# Written into every card folder this package makes: only such folders are ever purged.
CARD_MARKER_FILE = ".mct-card"
# The Sigstore bundle that signs a card version's folder (`governance.signing`).
SIGNATURE_FILE = "card.sig"
# Recorded on a change: the SHA-256 of its card.sig, and who signed it.
SIGNATURE_SHA256_PROPERTY = "signature_sha256"
SIGNER_PROPERTY = "signer"
# Recorded on a change a review console signed: the login it signed for.
IDENTITY_PROPERTY = "identity"
# The properties of a card change's execution (`mct_component.CardChange`).
CHANGE_PROPERTIES = ("change", "by", "note", "from_status", "to_status", "at")
