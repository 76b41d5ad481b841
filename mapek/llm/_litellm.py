"""The one place litellm is imported.

``import litellm`` takes seconds and, by default, downloads a price list at import time. So it
is imported on first use only, after pointing it at its bundled price map, with its logging
quietened and the offline provider registered.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from types import ModuleType

__all__ = ["get_litellm"]

_lock = threading.Lock()
_litellm: ModuleType | None = None

_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")


def get_litellm() -> ModuleType:
    """litellm, imported once and configured for mapek (thread-safe)."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _lock:
        if _litellm is None:
            _litellm = _load()
    return _litellm


def _load() -> ModuleType:
    # Read by litellm.litellm_core_utils.get_model_cost_map at import time: use the price map
    # bundled with the package instead of fetching it from GitHub.
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    # Also skip the other catalogues litellm fetches on its own (beta headers, tokenizers, ...);
    # calls to the providers a user configured are not affected. A user may opt out.
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

    import litellm

    if not os.environ.get("LITELLM_LOG"):  # a user asking for litellm's debug log gets it
        for name in _LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
    # pydantic warns once about a TypedDict of litellm's its streaming code builds a model of
    warnings.filterwarnings("ignore", message=r"Item .* is using the `ReadOnly` qualifier",
                            category=UserWarning)
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on errors
    litellm.telemetry = False

    from litellm.utils import custom_llm_setup

    from mapek.llm._offline_provider import build_provider
    from mapek.llm.offline import PROVIDER

    litellm.custom_provider_map = [
        *(p for p in litellm.custom_provider_map if p.get("provider") != PROVIDER),
        {"provider": PROVIDER, "custom_handler": build_provider(litellm)},
    ]
    # so routing (get_llm_provider) knows the provider before the first call (litellm: untyped)
    custom_llm_setup()  # type: ignore[no-untyped-call]
    return litellm
