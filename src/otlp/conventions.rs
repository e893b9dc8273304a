//! The attribute names each instrumentation writes an LLM call's facts under, in the order they
//! are tried: the OpenTelemetry GenAI conventions (current, then deprecated), OpenInference
//! (Arize Phoenix, its LangChain and LlamaIndex instrumentations), OpenLLMetry/Traceloop, and the
//! LangChain callback of the cost tracker AuditPulse replaces (`llm.input_tokens`, ...).
//! docs/otlp.md lists the same table for users.

/// Who served the call.
pub const PROVIDER: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
];

/// The model the caller asked for.
pub const REQUEST_MODEL: &[&str] = &[
    "gen_ai.request.model",
    "llm.request.model",
    "llm.model_name",
];

/// The model that answered.
pub const RESPONSE_MODEL: &[&str] = &[
    "gen_ai.response.model",
    "llm.response.model",
    "llm.model_name",
];

/// The provider's id of the answer (`chatcmpl-…`, `msg_…`): links a span to a gateway call.
pub const RESPONSE_ID: &[&str] = &["gen_ai.response.id"];

/// What kind of call it was.
pub const OPERATION: &[&str] = &["gen_ai.operation.name", "llm.request.type"];

/// Prompt tokens, including cached ones (as the GenAI conventions and OpenInference define
/// them).
pub const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
    "llm.input_tokens",
];

/// Answer tokens, including reasoning ones.
pub const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
    "llm.output_tokens",
];

/// Prompt tokens read from the provider's cache.
pub const CACHE_READ_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "llm.usage.cache_read_input_tokens",
];

/// Prompt tokens written to the provider's cache.
pub const CACHE_WRITE_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
    "llm.usage.cache_creation_input_tokens",
];

/// Answer tokens spent reasoning.
pub const REASONING_TOKENS: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
    "llm.usage.reasoning_tokens",
];

/// A total without the split: not enough to price a call (input and output cost differently).
pub const TOTAL_TOKENS: &[&str] = &[
    "gen_ai.usage.total_tokens",
    "llm.usage.total_tokens",
    "llm.token_count.total",
    "llm.total_tokens",
];

/// The application, on the span; otherwise the resource's [`RESOURCE_APPLICATION`].
pub const APPLICATION: &[&str] = &["auditpulse.application", "llm.application_name"];

/// The application, on the resource.
pub const RESOURCE_APPLICATION: &[&str] =
    &["auditpulse.application", "application.name", "service.name"];

/// The end user.
pub const USER: &[&str] = &[
    "auditpulse.user",
    "user.id",
    "enduser.id",
    "llm.user_id",
    "traceloop.association.properties.user_id",
];

/// The project, on the span or the resource.
pub const PROJECT: &[&str] = &[
    "auditpulse.project",
    "openinference.project.name",
    "traceloop.association.properties.project",
];

/// Span kinds that summarise other spans: their token counts, if any, are their children's.
pub const SPAN_KIND: &[(&str, &[&str])] = &[
    (
        "openinference.span.kind",
        &[
            "CHAIN",
            "AGENT",
            "TOOL",
            "RETRIEVER",
            "RERANKER",
            "GUARDRAIL",
            "EVALUATOR",
        ],
    ),
    (
        "traceloop.span.kind",
        &["workflow", "task", "agent", "tool"],
    ),
];
