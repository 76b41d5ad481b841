"""The model gateway: litellm behind one small interface, and the offline model.

``import mapek.llm`` does not import litellm; the first model call does (see ``_litellm``).

- :class:`Gateway`: ``complete``/``acomplete`` and ``structured``/``astructured``, with retries,
  budgets, ``llm.call`` events, and bounded repair of structured output.
- :class:`Model`: the plug-in point; :class:`LiteLLMModel` serves any litellm model string, and
  wrappers add behaviour (:class:`RetryingModel`, :class:`BudgetedModel`, :class:`RecordingModel`).
- :class:`ModelSpec`: a model as data (litellm string, base URL, the NAME of its key's
  environment variable, extra call options, structured-output mode), recorded and rebuilt.
- :class:`Budget`: token and USD limits, thread-safe.
- The offline model ``mapek/offline``: :func:`register_script` adds a task to it.
- Streaming: a request's ``on_delta`` gets each :class:`Delta` of the answer as it is
  generated; :class:`FieldStream` reads one field's text out of a streaming JSON answer.
"""

from __future__ import annotations

from mapek.llm.budget import Budget, Reservation
from mapek.llm.gateway import REASK_PREFIX, Gateway, schema_instructions
from mapek.llm.litellm_model import LiteLLMModel
from mapek.llm.model import Model, WrapperModel
from mapek.llm.offline import (
    OfflineReply,
    OfflineRequest,
    Script,
    register_script,
    registered_scripts,
    unregister_script,
)
from mapek.llm.repair import RepairError, repair
from mapek.llm.spec import ModelSpec, StructuredOutput
from mapek.llm.stream import FieldStream, JsonFieldReader
from mapek.llm.types import (
    Completion,
    Delta,
    DeltaSink,
    Message,
    ModelRequest,
    Outcome,
    Recorder,
    Usage,
)
from mapek.llm.wrappers import (
    LLM_CALL,
    BudgetedModel,
    RecordingModel,
    RetryingModel,
    is_transient,
)

__all__ = [
    "Gateway",
    "Model",
    "WrapperModel",
    "LiteLLMModel",
    "ModelSpec",
    "StructuredOutput",
    "RetryingModel",
    "BudgetedModel",
    "RecordingModel",
    "Budget",
    "Reservation",
    "Completion",
    "Usage",
    "Message",
    "ModelRequest",
    "Delta",
    "DeltaSink",
    "FieldStream",
    "JsonFieldReader",
    "Outcome",
    "Recorder",
    "LLM_CALL",
    "is_transient",
    "repair",
    "RepairError",
    "schema_instructions",
    "REASK_PREFIX",
    "OfflineRequest",
    "OfflineReply",
    "Script",
    "register_script",
    "unregister_script",
    "registered_scripts",
]
