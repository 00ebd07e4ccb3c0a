"""Each card history of the store, verified as `mct-card verify` would: the dashboard's
"history altered" and "approval not verified" flags.

MLMD's side comes from the snapshot (no per-model query); each version's files are
read from its folder, as `governance.verify` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping

from mct_component.dashboard import overview
from mct_component.dashboard.snapshot import MARKED_FOR_DELETION, Snapshot
from mct_component.governance import registry, verify
from mct_component.governance.policy import Policy


def verify_store(
    snapshot: Snapshot, policy: Policy | None = None
) -> dict[int, verify.Verification]:
    """Every carded model's verification, by model id."""
    return {
        model_id: verify.verify_versions(model_id, versions, policy)
        for model_id, versions in histories(snapshot).items()
    }


def histories(snapshot: Snapshot) -> Mapping[int, list[registry.CardVersion]]:
    """Each model's card versions, oldest first, as `registry.history` reads them."""
    found: dict[int, list[registry.CardVersion]] = {}
    for model_id, cards in overview.cards_by_model(snapshot).items():
        versions = []
        for number, card in enumerate(cards, start=1):
            producer = snapshot.producer(card.id)
            made = snapshot.executions[producer] if producer is not None else None
            record = registry.VersionRecord(
                card.id,
                card.uri,
                card.state == MARKED_FOR_DELETION,
                card.properties,
                made.type_name if made is not None else "",
                made.properties if made is not None else {},
                made.create_time_ms if made is not None else 0,
            )
            versions.append(registry.card_version(model_id, number, record))
        found[model_id] = versions
    return found
