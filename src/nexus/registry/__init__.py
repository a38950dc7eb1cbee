"""The model registry: versioned artifacts, champions, ``model_config.json``.

``NEXUS_HOME/models/<slot>/<version>/`` holds one trained model (native, ONNX,
scaler, feature spec, metrics, data fingerprint, experiment) with a SHA-256
manifest. ``NEXUS_HOME/models/model_config.json`` names each slot's champion and
previous champion and keeps the history of decisions (promote, rollback, keep,
refused). It is changed only under a file lock and replaced atomically.
Loading verifies checksums; a missing or corrupt artifact is refused with an
alert and the champion stays. See ``docs/registry.md``.

>>> from nexus.registry import Registry
"""

from nexus.registry._alerts import Alert, AlertSink, log_alert
from nexus.registry._artifact import Artifact
from nexus.registry._manifest import REQUIRED_FILES, ManifestCheck, check_manifest
from nexus.registry._names import DEFAULT_SLOTS, check_name
from nexus.registry._registry import CONFIG_FILE, Registry
from nexus.registry._state import ACTIONS, Action, Decision, RegistryState, SlotState, read_state

__all__ = [
    "ACTIONS",
    "CONFIG_FILE",
    "DEFAULT_SLOTS",
    "REQUIRED_FILES",
    "Action",
    "Alert",
    "AlertSink",
    "Artifact",
    "Decision",
    "ManifestCheck",
    "Registry",
    "RegistryState",
    "SlotState",
    "check_manifest",
    "check_name",
    "log_alert",
    "read_state",
]
