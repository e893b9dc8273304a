//! The YAML file as a small tree of maps, lists and scalar text, each node with its line, built
//! from `yaml-rust2`'s event parser so numbers are never read through a float: `0.1` stays the
//! text `"0.1"`.
//!
//! Invariant: the tree is bounded by the input: at most [`MAX_BYTES`] of text, [`MAX_DEPTH`]
//! nested maps and lists, one document, and no anchors or aliases (an alias could repeat a large
//! node many times over: the "billion laughs"). The first such problem stops the parse.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::Problem;

/// The largest file read (1 MiB).
pub const MAX_BYTES: usize = 1 << 20;
/// Maps and lists nested at most this deep (the layout needs five).
pub const MAX_DEPTH: usize = 16;

/// A node and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// An empty value, `~` or `null`.
    Null,
    /// A scalar's text as written (quotes removed).
    Text(String),
    List(Vec<Node>),
    Map(Vec<Entry>),
}

/// A key of a map, the line it is on, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub key: String,
    pub line: usize,
    pub value: Node,
}

impl Value {
    /// What a reader calls this kind of value, for "expected ..., found ...".
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Text(_) => "text",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// The file's one document, or the first problem that stops reading it.
pub(super) fn read(text: &str) -> Result<Node, Problem> {
    let stop = |line: usize, message: String| Problem {
        line,
        path: String::new(),
        message,
    };
    if text.len() > MAX_BYTES {
        return Err(stop(
            1,
            format!(
                "the file is {} bytes, more than the limit of {MAX_BYTES}",
                text.len()
            ),
        ));
    }
    // Editors on Windows start files with a byte-order mark, which the parser would read as text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| stop(e.marker().line(), format!("not valid YAML: {}", e.info())))?;
        if event == Event::StreamEnd {
            break;
        }
        builder.on_event(event, mark);
        if let Some(problem) = builder.stopped.take() {
            return Err(problem);
        }
    }
    builder
        .root
        .ok_or_else(|| stop(1, "the file is empty: expected a `budget_rules` map".into()))
}

/// An open map or list: its line and what it holds so far.
#[derive(Debug)]
enum Open {
    List(usize, Vec<Node>),
    /// A map, and the key waiting for its value.
    Map(usize, Vec<Entry>, Option<(String, usize)>),
}

#[derive(Debug, Default)]
struct Builder {
    open: Vec<Open>,
    root: Option<Node>,
    documents: usize,
    stopped: Option<Problem>,
}

impl Builder {
    fn stop(&mut self, line: usize, message: impl Into<String>) {
        self.stopped.get_or_insert(Problem {
            line,
            path: String::new(),
            message: message.into(),
        });
    }

    fn start(&mut self, open: Open, line: usize) {
        if self.open.len() >= MAX_DEPTH {
            self.stop(
                line,
                format!("maps and lists are nested more than {MAX_DEPTH} deep"),
            );
        } else {
            self.open.push(open);
        }
    }

    fn end(&mut self) {
        let node = match self.open.pop() {
            Some(Open::List(line, items)) => Node {
                line,
                value: Value::List(items),
            },
            Some(Open::Map(line, entries, _)) => Node {
                line,
                value: Value::Map(entries),
            },
            None => return,
        };
        self.place(node);
    }

    /// The line of the key waiting for its value, if the innermost open node is such a map.
    fn pending_key_line(&self) -> Option<usize> {
        match self.open.last() {
            Some(Open::Map(_, _, Some((_, line)))) => Some(*line),
            _ => None,
        }
    }

    /// Puts a finished node in the open list or map, or makes it the root.
    fn place(&mut self, node: Node) {
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::List(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                Some((key, line)) => entries.push(Entry {
                    key,
                    line,
                    value: node,
                }),
                None => match node.value {
                    Value::Text(key) => *pending = Some((key, node.line)),
                    Value::Null => *pending = Some((String::new(), node.line)),
                    _ => self.stop(node.line, "a key must be text, not a map or a list"),
                },
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Alias(_) => self.stop(line, "aliases (*name) are not accepted"),
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(anchor, _)
            | Event::MappingStart(anchor, _)
                if anchor != 0 =>
            {
                // A block map or list starts at its first key or item, below the anchor, which
                // is on the line of the key it is the value of.
                let line = self.pending_key_line().unwrap_or(line).min(line);
                self.stop(line, "anchors (&name) are not accepted")
            }
            Event::Scalar(_, _, _, Some(_))
            | Event::SequenceStart(_, Some(_))
            | Event::MappingStart(_, Some(_)) => self.stop(line, "tags (!name) are not accepted"),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.stop(line, "only one YAML document is accepted");
                }
            }
            Event::Scalar(text, style, _, None) => {
                let null = style == TScalarStyle::Plain
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let value = if null { Value::Null } else { Value::Text(text) };
                self.place(Node { line, value });
            }
            Event::SequenceStart(_, None) => self.start(Open::List(line, Vec::new()), line),
            Event::MappingStart(_, None) => self.start(Open::Map(line, Vec::new(), None), line),
            Event::SequenceEnd | Event::MappingEnd => self.end(),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}
