//! An incremental server-sent-events parser: fed arbitrary byte chunks, it yields whole events.
//!
//! Invariant: memory is bounded by `max_event`; an event larger than that is reported as
//! `Item::Oversized` and its remaining lines are skipped, never buffered. No input panics.
//! [`Parser::push_blocks`] also says where each block of lines ended in the chunk, so a caller
//! can cut the raw bytes at the same boundaries the parser used.

/// One parsed item of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete event: its `event:` name (empty when absent) and its joined `data:` lines.
    Event { event: String, data: String },
    /// An event exceeded the maximum size and was dropped.
    Oversized,
}

/// The end of one block of lines (up to and including its blank line) in the chunk just fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Offset in the chunk just after the blank line's terminator (for CRLF, after the CR: the
    /// LF is skipped as part of it, possibly at the start of the next chunk).
    pub end: usize,
    /// The event the block made; `None` for a block without data (comments only, a lone blank).
    pub item: Option<Item>,
}

/// The parser's state between chunks.
#[derive(Debug)]
pub struct Parser {
    max_event: usize,
    line: Vec<u8>,
    /// A byte of the current line was dropped (oversized): the line is not blank even if empty.
    line_dropped: bool,
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
            line_dropped: false,
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
        self.push_blocks(chunk)
            .into_iter()
            .filter_map(|b| b.item)
            .collect()
    }

    /// Feeds one chunk; returns every block of lines it completed, with where each ended.
    pub fn push_blocks(&mut self, chunk: &[u8]) -> Vec<Block> {
        let mut out = Vec::new();
        for (i, &b) in chunk.iter().enumerate() {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(i + 1, &mut out);
                }
                b'\n' => self.end_line(i + 1, &mut out),
                _ if self.oversized => self.line_dropped = true,
                _ => {
                    if self.line.len() + self.data.len() + self.event.len() >= self.max_event {
                        self.oversized = true;
                        self.line_dropped = true;
                        self.line.clear();
                    } else {
                        self.line.push(b);
                    }
                }
            }
        }
        out
    }

    fn end_line(&mut self, end: usize, out: &mut Vec<Block>) {
        let mut line = std::mem::take(&mut self.line);
        let dropped = std::mem::take(&mut self.line_dropped);
        if !self.started {
            self.started = true;
            if line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                line.drain(..3);
            }
        }
        if line.is_empty() && !dropped {
            let item = self.dispatch();
            out.push(Block { end, item });
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

    fn dispatch(&mut self) -> Option<Item> {
        let item = if self.oversized {
            Some(Item::Oversized)
        } else if self.has_data {
            Some(Item::Event {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            })
        } else {
            None
        };
        self.event.clear();
        self.data.clear();
        self.has_data = false;
        self.oversized = false;
        item
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

    #[test]
    fn a_long_line_cut_at_the_limit_does_not_end_its_event() {
        // The limit falls on the last byte of the long line: the line is not blank, so the
        // event ends at the real blank line and its second data line is not a separate event.
        let mut p = Parser::new(8);
        let blocks = p.push_blocks(b"data: 012\ndata: {}\n\ndata: ok\n\n");
        assert_eq!(
            blocks,
            vec![
                Block {
                    end: 20,
                    item: Some(Item::Oversized)
                },
                Block {
                    end: 30,
                    item: Some(Item::Event {
                        event: String::new(),
                        data: "ok".into()
                    })
                }
            ]
        );
    }

    #[test]
    fn blocks_end_after_their_blank_line() {
        let mut p = Parser::new(1024);
        let blocks = p.push_blocks(b": keep-alive\n\ndata: a\r\n\r");
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0],
            Block {
                end: 14,
                item: None
            }
        );
        // After the CR of the blank line; the LF of its CRLF, in the next chunk, is skipped.
        assert_eq!(blocks[1].end, 24);
        assert!(p.push_blocks(b"\n").is_empty());
    }
}
