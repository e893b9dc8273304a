//! An incremental server-sent-events parser: fed arbitrary byte chunks, it yields whole events.
//!
//! Invariant: memory is bounded by `max_event`; an event larger than that is reported as
//! `Item::Oversized` and its remaining lines are skipped, never buffered. No input panics.

/// One parsed item of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete event: its `event:` name (empty when absent) and its joined `data:` lines.
    Event { event: String, data: String },
    /// An event exceeded the maximum size and was dropped.
    Oversized,
}

/// The parser's state between chunks.
#[derive(Debug)]
pub struct Parser {
    max_event: usize,
    line: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    oversized: bool,
    after_cr: bool,
    started: bool,
}

impl Parser {
    /// A parser that drops any event larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Self {
        Parser {
            max_event,
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            oversized: false,
            after_cr: false,
            started: false,
        }
    }

    /// Feeds one chunk; returns the items it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                b'\n' => self.end_line(&mut out),
                _ => {
                    if self.line.len() + self.data.len() + self.event.len() >= self.max_event {
                        self.oversized = true;
                        self.line.clear();
                    } else {
                        self.line.push(b);
                    }
                }
            }
        }
        out
    }

    fn end_line(&mut self, out: &mut Vec<Item>) {
        let mut line = std::mem::take(&mut self.line);
        if !self.started {
            self.started = true;
            if line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                line.drain(..3);
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if self.oversized || line[0] == b':' {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let (field, value) = match text.find(':') {
            Some(i) => (
                &text[..i],
                text[i + 1..].strip_prefix(' ').unwrap_or(&text[i + 1..]),
            ),
            None => (&text[..], ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        if self.oversized {
            out.push(Item::Oversized);
        } else if self.has_data {
            out.push(Item::Event {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
        self.oversized = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] =
        b"\xEF\xBB\xBF: comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: x\rdata: y\r\r";

    fn all(chunks: &[&[u8]]) -> Vec<Item> {
        let mut p = Parser::new(1024);
        chunks.iter().flat_map(|c| p.push(c)).collect()
    }

    #[test]
    fn every_split_gives_the_same_events() {
        let whole = all(&[FIXTURE]);
        assert_eq!(whole.len(), 2);
        assert_eq!(
            whole[0],
            Item::Event {
                event: "message_start".into(),
                data: "{\"a\":1}".into()
            }
        );
        assert_eq!(
            whole[1],
            Item::Event {
                event: String::new(),
                data: "x\ny".into()
            }
        );
        for i in 0..=FIXTURE.len() {
            assert_eq!(all(&[&FIXTURE[..i], &FIXTURE[i..]]), whole, "split at {i}");
        }
    }

    #[test]
    fn an_oversized_event_is_reported_and_the_next_one_parsed() {
        let mut p = Parser::new(8);
        let items = p.push(b"data: 0123456789abcdef\n\ndata: ok\n\n");
        assert_eq!(
            items,
            vec![
                Item::Oversized,
                Item::Event {
                    event: String::new(),
                    data: "ok".into()
                }
            ]
        );
    }
}
