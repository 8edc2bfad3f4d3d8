//! Every OpenTelemetry name the export writes, in one place.
//!
//! The GenAI names follow the OpenTelemetry semantic conventions 1.44.0 and the GenAI
//! conventions they moved to (`gen_ai.*`, Development status: names may still change, and
//! this module is where they would). `server.address`, `error.type`,
//! `http.request.method` and `http.response.status_code` are stable. Names agentlog adds are
//! under `agentlog.*`.

/// The semantic conventions version the names are taken from.
pub const SEMCONV_VERSION: &str = "1.44.0";
/// The schema URL of that version, written on every resource and scope.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.44.0";
/// The instrumentation scope of every record and span.
pub const SCOPE_NAME: &str = "agentlog";

/// `gen_ai.operation.name`: `chat`, `embeddings`, `text_completion`, `execute_tool`, ...
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`, ...
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model the request asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// All input tokens, cached ones included.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// All output tokens, reasoning ones included.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input tokens read from the provider's cache.
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the provider's cache.
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Output tokens spent on reasoning.
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// The tool a tool call ran.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// The conversation (the ledger's session).
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// The agent that made the call.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";

/// The host the request was addressed to.
pub const SERVER_ADDRESS: &str = "server.address";
/// The request's method.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// The response's status code.
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// Why the operation failed (a status code, `incomplete`, an error class).
pub const ERROR_TYPE: &str = "error.type";
/// The name of the log file a record came from.
pub const LOG_FILE_NAME: &str = "log.file.name";
/// A record's stable id: the same line of the same file always has the same id, so a
/// collector can drop a resent record.
pub const LOG_RECORD_UID: &str = "log.record.uid";
/// The service (resource attribute); `OTEL_SERVICE_NAME` overrides it.
pub const SERVICE_NAME: &str = "service.name";

/// What the exchange cost, in US dollars.
pub const AGENTLOG_COST_USD: &str = "agentlog.cost_usd";
/// Where the cost came from (`provider`, `price_table`, `reservation`).
pub const AGENTLOG_COST_SOURCE: &str = "agentlog.cost_source";
/// The exchange id the proxy wrote on the exchange's events.
pub const AGENTLOG_EXCHANGE_ID: &str = "agentlog.exchange_id";
/// The line of the record in its file (1-based).
pub const AGENTLOG_LINE: &str = "agentlog.line";
/// The envelope's run id.
pub const AGENTLOG_RUN_ID: &str = "agentlog.run_id";
/// The envelope's agent system.
pub const AGENTLOG_AGENT_SYSTEM: &str = "agentlog.agent_system";
/// The envelope's event type (also the record's event name).
pub const AGENTLOG_EVENT_TYPE: &str = "agentlog.event_type";
/// The envelope's plugin.
pub const AGENTLOG_PLUGIN: &str = "agentlog.plugin";
/// The envelope's tags.
pub const AGENTLOG_TAGS: &str = "agentlog.tags";
/// Prefix of the event's data fields: `agentlog.data.host`, `agentlog.data.action`, ...
pub const AGENTLOG_DATA_PREFIX: &str = "agentlog.data.";
/// Prefix of a ledger record's fields: `agentlog.ledger.result_status`, ...
pub const AGENTLOG_LEDGER_PREFIX: &str = "agentlog.ledger.";

/// The provider a host belongs to, as `gen_ai.provider.name` names it; `None` for a host of
/// no known provider.
pub fn provider_of(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let provider = if is("openai.azure.com")
        || is("cognitiveservices.azure.com")
        || is("services.ai.azure.com")
    {
        "azure.ai.openai"
    } else if is("openai.com") {
        "openai"
    } else if is("anthropic.com") {
        "anthropic"
    } else if is("generativelanguage.googleapis.com") {
        "gcp.gemini"
    } else if is("aiplatform.googleapis.com") {
        "gcp.vertex_ai"
    } else if host.starts_with("bedrock") && host.ends_with(".amazonaws.com") {
        "aws.bedrock"
    } else if is("mistral.ai") {
        "mistral_ai"
    } else if is("groq.com") {
        "groq"
    } else if is("deepseek.com") {
        "deepseek"
    } else if is("openrouter.ai") {
        "openrouter"
    } else if is("together.xyz") || is("together.ai") {
        "together_ai"
    } else {
        return None;
    };
    Some(provider)
}

/// The GenAI operation a request path performs.
pub fn operation_of(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or_default();
    if path.ends_with("/embeddings") || path.ends_with(":embedContent") {
        "embeddings"
    } else if path.ends_with("/completions") && !path.ends_with("/chat/completions") {
        "text_completion"
    } else if path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent") {
        "generate_content"
    } else {
        "chat"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_their_providers() {
        assert_eq!(provider_of("api.openai.com"), Some("openai"));
        assert_eq!(provider_of("eu.api.openai.com."), Some("openai"));
        assert_eq!(provider_of("api.anthropic.com"), Some("anthropic"));
        assert_eq!(provider_of("x.openai.azure.com"), Some("azure.ai.openai"));
        assert_eq!(
            provider_of("bedrock-runtime.us-east-1.amazonaws.com"),
            Some("aws.bedrock")
        );
        assert_eq!(provider_of("evilopenai.com"), None);
        assert_eq!(provider_of("example.com"), None);
    }

    #[test]
    fn paths_map_to_operations() {
        assert_eq!(operation_of("/v1/chat/completions"), "chat");
        assert_eq!(operation_of("/v1/messages"), "chat");
        assert_eq!(operation_of("/v1/completions"), "text_completion");
        assert_eq!(operation_of("/v1/embeddings"), "embeddings");
        assert_eq!(
            operation_of("/v1beta/models/gemini-2.5-pro:generateContent"),
            "generate_content"
        );
    }
}
