"""JetStream bootstrap, publishing with Nats-Msg-Id and the pull-consumer loop every service uses."""

from rushes_events.bus import EventBus
from rushes_events.consumer import Consumer, Delivery, consumer_config, nak_delay_s
from rushes_events.errors import AssetFailed, EventBusUnavailable, PoisonMessage, TransientError
from rushes_events.registry import (
    EVENT_TYPES,
    decode_event,
    event_class_for,
    new_envelope,
    register_event_type,
)
from rushes_events.stage_events import (
    announce_stage_failed,
    announce_stage_started,
    follow_up_envelope,
    stage_run,
)
from rushes_events.stage_job import FailureMap, StageIdentity, run_stage_job
from rushes_events.subjects import (
    DLQ_PREFIX,
    STREAM_SUBJECTS,
    SUBJECT_PREFIX,
    dlq_subject,
    message_id,
    subject_for,
)

__all__ = [
    "DLQ_PREFIX",
    "EVENT_TYPES",
    "STREAM_SUBJECTS",
    "SUBJECT_PREFIX",
    "AssetFailed",
    "Consumer",
    "Delivery",
    "EventBus",
    "EventBusUnavailable",
    "FailureMap",
    "PoisonMessage",
    "StageIdentity",
    "TransientError",
    "announce_stage_failed",
    "announce_stage_started",
    "consumer_config",
    "decode_event",
    "dlq_subject",
    "event_class_for",
    "follow_up_envelope",
    "message_id",
    "nak_delay_s",
    "new_envelope",
    "register_event_type",
    "run_stage_job",
    "stage_run",
    "subject_for",
]
