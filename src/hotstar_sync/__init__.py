"""hotstar-sync: a complete, exact and auditable PostgreSQL mirror of the Hotstar catalogue."""

from hotstar_sync.config import Settings, load_settings
from hotstar_sync.errors import HotstarSyncError

__version__ = "0.1.0"

__all__ = ["HotstarSyncError", "Settings", "__version__", "load_settings"]
