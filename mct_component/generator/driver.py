"""The `ModelCardGenerator` driver: resolves the model's lineage while MLMD is at hand.

TFX executors get no MLMD connection, but a component's driver does (on LocalDagRunner
and BeamDagRunner). The driver walks the lineage from the `model` input and passes the
result to the executor as the `lineage` execution property (JSON). Where no driver runs
(Kubeflow Pipelines v2), the executor works from its explicit inputs alone.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from tfx.dsl.components.base import base_driver
from tfx.orchestration.portable import base_driver as portable_base_driver
from tfx.orchestration.portable import data_types
from tfx.proto.orchestration import driver_output_pb2

from mct_component import constants
from mct_component.card import Inheritance
from mct_component.errors import ModelCardError
from mct_component.governance import registry
from mct_component.mlmd import lineage

logger = logging.getLogger(__name__)


class LineageDriver(base_driver.BaseDriver, portable_base_driver.BaseDriver):
    """Adds the model's resolved lineage to the execution properties."""

    def run(self, execution_info: data_types.ExecutionInfo) -> driver_output_pb2.DriverOutput:
        """Resolves the lineage of the one `model` input, and the newest approved card of
        its pipeline to inherit content from; never fails the run for either."""
        output = driver_output_pb2.DriverOutput()
        models = execution_info.input_dict.get(constants.MODEL_KEY) or []
        if len(models) != 1:
            return output
        inherit = execution_info.exec_properties.get(constants.INHERIT_CONTENT_KEY, 1)
        with self._metadata_handle as handle:
            try:
                inputs = lineage.resolve_lineage(handle.store, models[0].id)
            except ModelCardError as e:
                logger.warning("Lineage of model %s not resolved: %s", models[0].id, e)
                output.exec_properties[constants.LINEAGE_ERROR_KEY].string_value = str(e)
                return output
            output.exec_properties[constants.LINEAGE_KEY].string_value = inputs.to_json()
            if inherit and inputs.pipeline is not None:
                try:
                    approved = registry.newest_approved(handle.store, inputs.pipeline.name)
                except ModelCardError as e:  # a card that cannot be read is not inherited
                    logger.warning("No approved card to inherit content from: %s", e)
                    approved = None
                source = execution_info.exec_properties.get(constants.REVIEW_POLICY_KEY) or ""
                refused = ""
                if approved is not None and source:
                    refused = _approval_problem(handle.store, approved, source)
                if refused:
                    logger.warning("Content not inherited: %s", refused)
                    output.exec_properties[constants.INHERITANCE_REFUSED_KEY].string_value = refused
                elif approved is not None:
                    text = json.dumps(dataclasses.asdict(approved), sort_keys=True)
                    output.exec_properties[constants.INHERITED_FROM_KEY].string_value = text
        return output


def _approval_problem(store: Any, approved: Inheritance, policy_source: str) -> str:
    """Why the approved card may not be inherited under the review policy ("" if it may)."""
    from mct_component.governance import policy, verify

    try:
        rules = policy.load_source(policy_source)
    except ModelCardError as e:
        return str(e)
    return verify.approval_problem(store, approved.model_id, approved.version, rules)
