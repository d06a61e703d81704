//! An OpenAI-compatible chat-completions backend (`SYMPHAINY_LLM_URL`, `_MODEL`, `_API_KEY`).
//! The model is asked to phrase the agent's draft for the user without adding facts; its
//! streamed text becomes `AGENT_TOKEN` events. Any failure falls back to the plain draft.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};

use super::reasoning::{Draft, ReasoningBackend};
use crate::store::conversations::Turn;

#[derive(Clone)]
pub struct LlmSettings {
    /// Base URL (`http://host/v1`) or the full `/chat/completions` endpoint.
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

pub struct ChatCompletions {
    http: reqwest::Client,
    endpoint: String,
    settings: LlmSettings,
}

impl ChatCompletions {
    pub fn new(settings: LlmSettings) -> anyhow::Result<Self> {
        let base = settings.url.trim_end_matches('/');
        let endpoint = if base.ends_with("/chat/completions") {
            base.to_string()
        } else {
            format!("{base}/chat/completions")
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Self {
            http,
            endpoint,
            settings,
        })
    }

    fn messages(draft: &Draft, history: &[Turn]) -> Vec<Value> {
        let mut messages = vec![json!({
            "role": "system",
            "content": "You are an assistant of the Symphainy platform. Rewrite the draft reply below \
                        for the user, clearly and briefly. Use only the facts given; do not invent \
                        files, numbers or capabilities.",
        })];
        for t in history.iter().rev().take(10).rev() {
            let role = if t.role == "agent" {
                "assistant"
            } else {
                "user"
            };
            messages.push(json!({"role": role, "content": t.content}));
        }
        messages.push(json!({
            "role": "user",
            "content": format!("Draft reply:\n{}\n\nFacts (JSON):\n{}", draft.message, draft.facts),
        }));
        messages
    }
}

#[async_trait]
impl ReasoningBackend for ChatCompletions {
    async fn phrase(
        &self,
        draft: &Draft,
        history: &[Turn],
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, String> {
        let body = json!({
            "model": self.settings.model,
            "stream": true,
            "messages": Self::messages(draft, history),
        });
        let mut req = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = &self.settings.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("model request failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("the model answered {}", resp.status()));
        }
        let mut text = String::new();
        let mut pending = String::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| format!("model stream failed: {e}"))?;
            pending.push_str(&String::from_utf8_lossy(&chunk));
            // Server-sent events: complete lines only; a partial one waits for more bytes.
            while let Some(end) = pending.find('\n') {
                let line = pending[..end].trim().to_string();
                pending.drain(..=end);
                let Some(data) = line.strip_prefix("data:").map(str::trim) else {
                    continue;
                };
                if data == "[DONE]" {
                    return finish(text);
                }
                let Ok(v) = serde_json::from_str::<Value>(data) else {
                    continue;
                };
                if let Some(piece) = v["choices"][0]["delta"]["content"].as_str() {
                    if !piece.is_empty() {
                        text.push_str(piece);
                        on_token(piece.to_string());
                    }
                }
            }
        }
        finish(text)
    }

    fn name(&self) -> &'static str {
        "llm"
    }
}

fn finish(text: String) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("the model returned no text".into())
    } else {
        Ok(text)
    }
}
