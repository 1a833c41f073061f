"""Shell side of call features: routing facts (history, CRM) and live-call features (transfer, hold,
pickup), plus their API blueprint ``bp``."""

from chalicelib.features.api import bp
from chalicelib.features.history import CallHistory, call_history, facts_needed, gather_facts
from chalicelib.features.live import (
    Diverted,
    FeatureError,
    attended_transfer,
    divert_call,
    handle_feature_call,
    hold,
    pickup_to_extension,
    resume,
    transfer,
)

__all__ = ["CallHistory", "Diverted", "FeatureError", "attended_transfer", "bp", "call_history", "divert_call",
           "facts_needed", "gather_facts", "handle_feature_call", "hold", "pickup_to_extension", "resume",
           "transfer"]
