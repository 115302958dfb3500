"""Mass balance, running balance and input-output provenance of every tonne."""

from coaltrace.config import ProvenanceConfig
from coaltrace.provenance.current import compute, ensure_current

__all__ = ["ProvenanceConfig", "compute", "ensure_current"]
