"""The pySigma processing pipeline that maps Sigma's CloudTrail field names onto chainwatch events, and
fails — with the field named — on any field chainwatch does not keep."""

from __future__ import annotations

from dataclasses import dataclass

from sigma.exceptions import SigmaTransformationError
from sigma.processing.conditions.fields import ExcludeFieldCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.failure import DetectionItemFailureTransformation
from sigma.processing.transformations.fields import (
    FieldMappingTransformation,
    FieldPrefixMappingTransformation,
)
from sigma.rule import SigmaDetectionItem

from detectors.sigma_rules.fields import EXACT, MAPPED_PATTERNS, PREFIXES


@dataclass
class UnknownFieldFailure(DetectionItemFailureTransformation):  # type: ignore[misc]
    """Names the field that has no chainwatch equivalent (pySigma's own failure has a fixed message)."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        if detection_item.field is None:
            raise SigmaTransformationError(
                "keyword (field-less) detections are not supported: name the field",
                source=detection_item.source,
            )
        raise SigmaTransformationError(
            f"field '{detection_item.field}' is not a CloudTrail field chainwatch keeps ({self.message})",
            source=detection_item.source,
        )


def cloudtrail_pipeline() -> ProcessingPipeline:
    """CloudTrail names -> chainwatch paths (``detectors.sigma_rules.fields``); refuse anything unmapped."""
    known = ", ".join(sorted(EXACT)) + ", " + ", ".join(f"{p}*" for p in PREFIXES)
    return ProcessingPipeline(
        name="chainwatch CloudTrail",
        priority=20,
        items=[
            ProcessingItem(
                identifier="chainwatch_fields", transformation=FieldMappingTransformation(dict(EXACT))
            ),
            ProcessingItem(
                identifier="chainwatch_prefixes",
                transformation=FieldPrefixMappingTransformation(dict(PREFIXES)),
            ),
            ProcessingItem(
                identifier="chainwatch_unknown_fields",
                transformation=UnknownFieldFailure(message=f"mapped: {known}"),
                field_name_conditions=[ExcludeFieldCondition(fields=MAPPED_PATTERNS, mode="re")],
            ),
        ],
    )
