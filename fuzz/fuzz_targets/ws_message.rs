//! The agent WebSocket's message parser and chat-turn reader on arbitrary bytes: they must
//! answer (Ok or a protocol error), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use symphainy::agents::kinds::chat_turn;
use symphainy::experience::agent_ws::protocol::{parse, ClientMsg};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(ClientMsg::Chat(v)) = parse(&text) {
        let _ = chat_turn(&v, "session");
    }
});
