//! Reading the tree as the layout expects: a map with known keys, a list, a scalar's text, each
//! mismatch reported as a problem with its line and path.
//!
//! Invariant: every key of every map is either one the layout names or reported, and a key
//! written twice in one map is reported at its second line: nothing is silently ignored.

use std::collections::hash_map::Entry::{Occupied, Vacant};
use std::collections::HashMap;

use super::error::Problems;
use super::tree::{Entry, Node, Value};

/// The path of `key` under `path` (`applications[0]` + `name`).
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A map's entries by the keys the layout allows.
pub(super) struct Fields<'a> {
    found: Vec<&'a Entry>,
}

impl<'a> Fields<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Entry> {
        self.found.iter().copied().find(|e| e.key == key)
    }
}

/// `node` as a map whose keys are among `allowed`; `at` names the node, `under` prefixes the
/// paths of its keys. `None` (reported) unless it is a map; an empty value is an empty map.
pub(super) fn map<'a>(
    node: &'a Node,
    at: &str,
    under: &str,
    allowed: &[&str],
    problems: &mut Problems,
) -> Option<Fields<'a>> {
    let entries = entries(node, at, under, problems)?;
    let mut found = Vec::new();
    for entry in entries {
        if allowed.contains(&entry.key.as_str()) {
            found.push(entry);
        } else {
            problems.add(
                entry.line,
                &join(under, &entry.key),
                format!("unknown key; expected {}", one_of(allowed)),
            );
        }
    }
    Some(Fields { found })
}

/// `node` as a map with any keys, each key once (a repeat is reported and left out).
pub(super) fn entries<'a>(
    node: &'a Node,
    at: &str,
    under: &str,
    problems: &mut Problems,
) -> Option<Vec<&'a Entry>> {
    let list = match &node.value {
        Value::Map(list) => list,
        Value::Null => return Some(Vec::new()),
        other => {
            problems.add(
                node.line,
                at,
                format!("expected a map of keys, found {}", other.kind()),
            );
            return None;
        }
    };
    // A hash of the keys seen: a map of eighty thousand keys is still read in linear time.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(list.len());
    let mut kept: Vec<&Entry> = Vec::with_capacity(list.len());
    for entry in list {
        match first.entry(&entry.key) {
            Occupied(seen) => problems.add(
                entry.line,
                &join(under, &entry.key),
                format!("written twice (first on line {})", seen.get()),
            ),
            Vacant(slot) => {
                slot.insert(entry.line);
                kept.push(entry);
            }
        }
    }
    Some(kept)
}

/// `node` as a list; an empty value is an empty list.
pub(super) fn list<'a>(node: &'a Node, at: &str, problems: &mut Problems) -> Option<&'a [Node]> {
    match &node.value {
        Value::List(items) => Some(items),
        Value::Null => Some(&[]),
        other => {
            problems.add(
                node.line,
                at,
                format!(
                    "expected a list (lines starting with -), found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

/// A scalar's text; `what` says what was expected ("an amount such as 500.00").
pub(super) fn text<'a>(
    node: &'a Node,
    at: &str,
    what: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match &node.value {
        Value::Text(text) => Some(text),
        Value::Null => {
            problems.add(node.line, at, format!("no value; expected {what}"));
            None
        }
        other => {
            problems.add(
                node.line,
                at,
                format!("expected {what}, found {}", other.kind()),
            );
            None
        }
    }
}

/// The required key `key` of `fields`, or a problem at the map's line.
pub(super) fn required<'a>(
    fields: &Fields<'a>,
    key: &str,
    map_line: usize,
    under: &str,
    problems: &mut Problems,
) -> Option<&'a Entry> {
    let entry = fields.get(key);
    if entry.is_none() {
        problems.add(map_line, &join(under, key), "missing");
    }
    entry
}

/// `a, b or c`.
fn one_of(keys: &[&str]) -> String {
    match keys {
        [] => "no keys".to_owned(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
