//! An OpenAI-compatible chat-completions backend (`SYMPHAINY_LLM_URL`, `_MODEL`, `_API_KEY`).
//! The model is asked to phrase the agent's draft for the user without adding facts; its
//! streamed text becomes `AGENT_TOKEN` events. Any failure falls back to the plain draft.

use std::time::Duration;

use async_trait::async_trait;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::reasoning::{Draft, ReasoningBackend};
use crate::runtime::engine::language::LanguageModel;
use crate::store::conversations::Turn;

/// The most a model's streamed answer may be, in bytes (far more than any reply needs).
const MAX_STREAM_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct LlmSettings {
    /// Base URL (`http://host/v1`) or the full `/chat/completions` endpoint.
    pub url: String,
    pub model: String,
    /// Never shown by `Debug`.
    pub api_key: Option<SecretString>,
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

impl ChatCompletions {
    /// Streams one chat completion: each piece of text to `on_token`, the whole text back.
    /// More than `max_bytes` read from the model is an error.
    async fn stream(
        &self,
        messages: Vec<Value>,
        max_bytes: usize,
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, String> {
        let body = json!({
            "model": self.settings.model,
            "stream": true,
            "messages": messages,
        });
        let mut req = self.http.post(&self.endpoint).json(&body);
        if let Some(key) = &self.settings.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("model request failed: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("the model answered {}", resp.status()));
        }
        // Server-sent events, parsed by `eventsource-stream` (which also keeps a character
        // split across two network chunks whole). At most `max_bytes` are read.
        let mut read = 0usize;
        let bytes = resp.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| format!("model stream failed: {e}"))?;
            read += chunk.len();
            if read > max_bytes {
                return Err(format!(
                    "the model's answer is longer than {max_bytes} bytes"
                ));
            }
            Ok(chunk)
        });
        let mut events = bytes.eventsource();
        let mut text = String::new();
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| match e {
                EventStreamError::Transport(why) => why,
                other => format!("model stream unreadable: {other}"),
            })?;
            if event.data == "[DONE]" {
                return finish(text);
            }
            let Ok(v) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if let Some(piece) = v["choices"][0]["delta"]["content"].as_str() {
                if !piece.is_empty() {
                    text.push_str(piece);
                    on_token(piece.to_string());
                }
            }
        }
        finish(text)
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
        self.stream(Self::messages(draft, history), MAX_STREAM_BYTES, on_token)
            .await
    }

    fn name(&self) -> &'static str {
        "llm"
    }
}

/// The same model, for realms: one instruction, one prompt, one bounded answer.
#[async_trait]
impl LanguageModel for ChatCompletions {
    async fn complete(
        &self,
        instructions: &str,
        prompt: &str,
        max_bytes: usize,
    ) -> Result<String, String> {
        let messages = vec![
            json!({"role": "system", "content": instructions}),
            json!({"role": "user", "content": prompt}),
        ];
        // SSE framing adds some bytes per piece: allow for it, then hold the text to the cap.
        let text = self
            .stream(messages, max_bytes.saturating_mul(4), &|_| {})
            .await?;
        if text.len() > max_bytes {
            return Err(format!(
                "the model's answer is longer than {max_bytes} bytes"
            ));
        }
        Ok(text)
    }
}

fn finish(text: String) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("the model returned no text".into())
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A model that streams its answer in HTTP chunks, the `é` of "Café" split between two of
    /// them (a per-chunk lossy decoding turned it into two U+FFFD).
    async fn split_character_model() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut request).await.unwrap();
            let event = format!(
                "data: {}\n\n",
                json!({"choices": [{"delta": {"content": "Café déjà vu"}}]})
            )
            .into_bytes();
            let e_acute = event.windows(2).position(|w| w == "é".as_bytes()).unwrap();
            let (first, second) = event.split_at(e_acute + 1);
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                        transfer-encoding: chunked\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            for part in [first, second, b"data: [DONE]\n\n".as_slice()] {
                let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
                chunk.extend_from_slice(part);
                chunk.extend_from_slice(b"\r\n");
                socket.write_all(&chunk).await.unwrap();
                socket.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            socket.write_all(b"0\r\n\r\n").await.unwrap();
        });
        format!("http://{addr}/v1")
    }

    #[tokio::test]
    async fn a_character_split_across_chunks_arrives_whole() {
        let model = ChatCompletions::new(LlmSettings {
            url: split_character_model().await,
            model: "m".into(),
            api_key: None,
        })
        .unwrap();
        let draft = Draft {
            message: "plain".into(),
            facts: json!({}),
        };
        let tokens = parking_lot::Mutex::new(Vec::new());
        let text = model
            .phrase(&draft, &[], &|t: String| tokens.lock().push(t))
            .await
            .unwrap();
        assert_eq!(text, "Café déjà vu");
        assert_eq!(*tokens.lock(), ["Café déjà vu"]);
    }
}
