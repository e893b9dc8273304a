//! The official Python SDKs (`tests/sdk/`, pinned in `requirements.txt`) pointed straight at the
//! fake LLM providers: they must accept every answer, stream, error and header the fake sends,
//! so the gateway tests that put the gateway in between test against formats the real clients
//! read. The python comes from `AUDITPULSE_TEST_SDK_PYTHON` (made by `tests/sdk/setup.sh`); on CI
//! (`CI` set) its absence fails the test, elsewhere the test says it was skipped.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::fake_llm::{FakeLlm, ANSWER, ANTHROPIC_KEY, OPENAI_KEY, TOOL_CALL_TOKENS};

/// The venv's python, or `None` (after saying so) when it is not set up outside CI.
pub fn sdk_python() -> Option<String> {
    match std::env::var("AUDITPULSE_TEST_SDK_PYTHON") {
        Ok(python) if !python.is_empty() => Some(python),
        _ if std::env::var_os("CI").is_some() => panic!(
            "AUDITPULSE_TEST_SDK_PYTHON is not set on CI: run tests/sdk/setup.sh \
             (a skipped SDK check is not a pass)"
        ),
        _ => {
            eprintln!(
                "skipped: run `export AUDITPULSE_TEST_SDK_PYTHON=\"$(bash tests/sdk/setup.sh)\"` \
                 to check the official SDKs"
            );
            None
        }
    }
}

/// Runs `tests/sdk/<script>` with only `env` (and PATH) set; asserts it passed and returns its
/// JSON summary.
pub async fn run_sdk(python: &str, script: &str, env: Vec<(&'static str, String)>) -> Value {
    let mut command = Command::new(python);
    command
        .arg(script)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "*")
        .envs(env);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the SDK python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let summary = stdout.lines().last().unwrap_or("");
    serde_json::from_str(summary).unwrap_or_else(|e| panic!("{script} summary {summary:?}: {e}"))
}

fn models_called(fake: &FakeLlm, model: &str) -> Vec<crate::helpers::fake_llm::Recorded> {
    fake.requests()
        .into_iter()
        .filter(|r| r.json()["model"] == model)
        .collect()
}

#[tokio::test]
async fn the_openai_sdk_accepts_the_fake_openai() {
    let Some(python) = sdk_python() else { return };
    let fake = FakeLlm::start().await;
    let env = vec![
        ("OPENAI_BASE_URL", fake.openai_base()),
        ("OPENAI_API_KEY", OPENAI_KEY.to_owned()),
    ];
    let summary = run_sdk(&python, "openai_sdk.py", env).await;
    assert_eq!(summary["failures"], json!({}));
    let c = &summary["checks"];
    openai_answers(c);
    let errors = &c["errors"];
    assert_eq!(errors["auth"]["class"], "AuthenticationError");
    assert_eq!(errors["auth"]["body"]["code"], "invalid_api_key");
    assert!(errors["auth"]["request_id"]
        .as_str()
        .unwrap()
        .starts_with("req_"));
    // The SDK retried the 500 once when allowed to, and said so.
    let failing = models_called(&fake, "fake-fail-500");
    assert_eq!(failing.len(), 3);
    assert_eq!(failing[2].header("x-stainless-retry-count"), Some("1"));
}

#[tokio::test]
async fn the_anthropic_sdk_accepts_the_fake_anthropic() {
    let Some(python) = sdk_python() else { return };
    let fake = FakeLlm::start().await;
    let env = vec![
        ("ANTHROPIC_BASE_URL", fake.anthropic_base()),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY.to_owned()),
    ];
    let summary = run_sdk(&python, "anthropic_sdk.py", env).await;
    assert_eq!(summary["failures"], json!({}));
    let c = &summary["checks"];

    anthropic_answers(c);
    let errors = &c["errors"];
    assert_eq!(errors["auth"]["class"], "AuthenticationError");
    assert_eq!(
        errors["auth"]["body"]["error"]["type"],
        "authentication_error"
    );
    // Whatever the SDK sends, the fake saw the key and a version on every call.
    let requests = fake.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("anthropic-version").is_some()));
}

/// What every OpenAI SDK check must show, against the fake directly or through the gateway.
pub fn openai_answers(c: &Value) {
    provider_request_ids(&c["errors"], &["rate_limit", "bad_request", "server"]);
    assert!(c["models"]["ids"]
        .as_array()
        .unwrap()
        .contains(&json!("gpt-4o-mini")));
    assert_eq!(c["chat_plain"]["text"], ANSWER);
    assert_eq!(c["chat_plain"]["usage"]["prompt_tokens"], 6);
    assert_eq!(c["chat_plain"]["usage"]["completion_tokens"], 10);
    // Streams: role chunk, ten words, finish chunk, and the usage chunk only when asked.
    let streamed = &c["chat_stream_with_usage"];
    assert_eq!(streamed["text"], ANSWER);
    assert_eq!(streamed["chunks"], 13);
    assert_eq!(streamed["usage"]["total_tokens"], 16);
    assert_eq!(
        streamed["usage"]["prompt_tokens_details"]["cached_tokens"],
        3
    );
    assert_eq!(c["chat_stream_without_usage"]["text"], ANSWER);
    assert_eq!(c["chat_stream_without_usage"]["chunks"], 12);
    assert_eq!(c["chat_stream_helper"]["text"], ANSWER);
    assert_eq!(c["chat_stream_helper"]["usage"]["completion_tokens"], 10);

    let tools = &c["chat_tools"];
    assert_eq!(tools["name"], "get_weather");
    assert_eq!(tools["arguments"], json!({"city": "Paris"}));
    assert_eq!(tools["streamed_arguments"], json!({"city": "Paris"}));
    assert_eq!(tools["usage"]["completion_tokens"], TOOL_CALL_TOKENS);

    assert_eq!(c["responses_plain"]["text"], ANSWER);
    assert_eq!(c["responses_plain"]["usage"]["input_tokens"], 4);
    let responses = &c["responses_stream"];
    assert_eq!(responses["text"], ANSWER);
    assert_eq!(
        responses["usage"]["input_tokens_details"]["cached_tokens"],
        2
    );
    assert_eq!(
        responses["events"].as_array().unwrap().last().unwrap(),
        "response.completed"
    );

    assert_eq!(c["embeddings"]["count"], 2);
    assert_eq!(c["embeddings"]["usage"]["prompt_tokens"], 3);
    assert_eq!(c["embeddings"]["base64_dims"], 4);

    let errors = &c["errors"];
    assert_eq!(errors["auth"]["class"], "AuthenticationError");
    assert_eq!(errors["rate_limit"]["class"], "RateLimitError");
    assert_eq!(errors["bad_request"]["class"], "BadRequestError");
    assert_eq!(errors["server"]["class"], "InternalServerError");
    assert_eq!(
        c["stream_failures"]["dropped"]["class"],
        "APIConnectionError"
    );
    assert_eq!(c["stream_failures"]["in_stream_error"]["class"], "APIError");
}

/// What every Anthropic SDK check must show, against the fake directly or through the gateway.
pub fn anthropic_answers(c: &Value) {
    provider_request_ids(&c["errors"], &["rate_limit", "bad_request", "overloaded"]);
    assert_eq!(c["messages_plain"]["text"], ANSWER);
    assert_eq!(c["messages_plain"]["stop_reason"], "end_turn");
    assert_eq!(c["messages_plain"]["usage"]["input_tokens"], 3);
    assert_eq!(c["messages_plain"]["usage"]["output_tokens"], 10);
    let raw = &c["messages_stream_raw"];
    assert_eq!(raw["text"], ANSWER);
    let kinds: Vec<&str> = raw["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        kinds[..3],
        [
            "message_start",
            "content_block_start",
            "content_block_delta"
        ]
    );
    assert_eq!(raw["start_usage"]["output_tokens"], 1);
    assert_eq!(raw["delta_usage"]["output_tokens"], 10);
    // The helper overwrites with the cumulative count: 10, not 1 + 10.
    let helper = &c["messages_stream_helper"];
    assert_eq!(helper["text"], ANSWER);
    assert_eq!(helper["usage"]["output_tokens"], 10);
    assert_eq!(helper["usage"]["cache_creation_input_tokens"], 6);
    assert_eq!(
        helper["usage"]["cache_creation"],
        json!({"ephemeral_5m_input_tokens": 2, "ephemeral_1h_input_tokens": 4})
    );
    assert_eq!(c["caching"]["usage"]["cache_read_input_tokens"], 6);
    assert_eq!(c["caching"]["usage"]["input_tokens"], 1);

    assert_eq!(c["tools"]["name"], "get_weather");
    assert_eq!(c["tools"]["input"], json!({"city": "Paris"}));
    assert_eq!(c["tools"]["streamed_input"], json!({"city": "Paris"}));
    assert_eq!(c["count_tokens"]["input_tokens"], 7);

    let errors = &c["errors"];
    assert_eq!(errors["auth"]["class"], "AuthenticationError");
    assert_eq!(errors["rate_limit"]["class"], "RateLimitError");
    assert_eq!(errors["bad_request"]["class"], "BadRequestError");
    assert_eq!(errors["overloaded"]["class"], "OverloadedError");
    // anthropic 2.16 lets httpx's RemoteProtocolError through where openai wraps it.
    let dropped = c["stream_failures"]["dropped"]["class"].as_str().unwrap();
    assert!(
        ["APIConnectionError", "RemoteProtocolError"].contains(&dropped),
        "{dropped}"
    );
    assert_eq!(
        c["stream_failures"]["in_stream_error"]["class"],
        "APIStatusError"
    );
}

/// The SDK reported the provider's own request id on each of these errors (the fakes' `req_...`).
fn provider_request_ids(errors: &Value, kinds: &[&str]) {
    for kind in kinds {
        let id = errors[*kind]["request_id"].as_str().unwrap_or("");
        assert!(id.starts_with("req_"), "{kind}: request id {id:?}");
    }
}
