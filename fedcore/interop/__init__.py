"""Results made elsewhere, opened in FedLens: the exchange format and the Flower bridge.

* :mod:`.exchange` -- the documented, versioned format (:class:`Exchange`);
* :mod:`.recorder` -- :class:`ExchangeRecorder`, writing it round by round from any loop;
* :mod:`.reader` -- :func:`read_exchange` with upload-grade validation (never unpickles);
* :mod:`.to_run` -- :func:`import_exchange`: an exchange record -> a normal run directory;
* :mod:`.flower` -- the ONLY module importing ``flwr`` (import it explicitly).
"""

from .exchange import FORMAT_NAME, FORMAT_VERSION, Exchange
from .reader import read_exchange
from .recorder import ExchangeRecorder
from .to_run import (
    EXCHANGE_FILE,
    NO_MODEL_NOTE,
    import_exchange,
    is_imported,
    load_imported_run,
    result_from_exchange,
    run_record,
    save_imported,
    spec_of,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "Exchange", "ExchangeRecorder", "read_exchange",
           "import_exchange", "is_imported", "load_imported_run", "result_from_exchange",
           "run_record", "save_imported", "spec_of", "EXCHANGE_FILE", "NO_MODEL_NOTE"]
