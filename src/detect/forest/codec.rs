//! A forest as bytes, for the model table: compact, versioned, little-endian.
//!
//! ```text
//! "APIF" version:u8=1 width:u8 names:u64 (FNV-1a of the feature names)
//! trees:u32 max_samples:u32 training_size:u64 contamination:f64 threshold:f64
//! per tree, its nodes in preorder: 1 feature:u8 threshold:f64 (split, then left, right)
//!                                 | 0 path:f64 (leaf)
//! ```
//!
//! Invariant: `from_bytes` never panics and accepts only what `train` could have produced: the
//! same features (width and names), at most [`MAX_TREES`] trees of at most [`MAX_SAMPLES`]
//! samples, no path deeper than the depth limit, finite thresholds, path lengths in range,
//! scores' threshold in (0, 1], no trailing bytes, at most [`MAX_BYTES`] in all and at most
//! [`MAX_SLOTS`] laid out; so a model read back from the database scores exactly as the one
//! stored.

use super::tree::{average_path_length, Node, Tree};
use super::{depth_limit, Forest};
use crate::detect::features::{NAMES, WIDTH};

const MAGIC: &[u8; 4] = b"APIF";
const VERSION: u8 = 1;
pub const MAX_TREES: usize = 1_000;
pub const MAX_SAMPLES: usize = 65_536;
pub const MAX_BYTES: usize = 16 << 20;
/// Heap slots of all trees laid out for scoring (`2^(depth + 1)` a tree, 9 bytes a slot): a few
/// bytes of deep, narrow trees must not make the reader allocate gigabytes. The default forest
/// takes 51,200.
pub const MAX_SLOTS: usize = 1 << 24;

const LEAF: u8 = 0;
const SPLIT: u8 = 1;

/// FNV-1a of the feature names, so a model trained on other features is refused.
fn names_fingerprint() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in NAMES.join(",").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl Forest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.trees.len() * self.max_samples * 18);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(WIDTH as u8);
        out.extend_from_slice(&names_fingerprint().to_le_bytes());
        out.extend_from_slice(&(self.trees.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.max_samples as u32).to_le_bytes());
        out.extend_from_slice(&self.training_size.to_le_bytes());
        out.extend_from_slice(&self.contamination.to_le_bytes());
        out.extend_from_slice(&self.threshold.to_le_bytes());
        for tree in &self.trees {
            encode(tree, 1, 0, &mut out);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_BYTES {
            return Err(format!("a forest is at most {MAX_BYTES} bytes"));
        }
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err("not an AuditPulse forest".to_owned());
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(format!("forest format {version} is not supported"));
        }
        if usize::from(r.u8()?) != WIDTH || r.u64()? != names_fingerprint() {
            return Err("the forest was trained on other features; retrain it".to_owned());
        }
        let trees = r.u32()? as usize;
        let max_samples = r.u32()? as usize;
        if trees > MAX_TREES || !(1..=MAX_SAMPLES).contains(&max_samples) {
            return Err(format!(
                "{trees} trees of {max_samples} samples is out of bounds"
            ));
        }
        let training_size = r.u64()?;
        let contamination = r.f64()?;
        let threshold = r.f64()?;
        let in_range = |x: f64, top: f64| x > 0.0 && x <= top; // false for NaN
        if !in_range(contamination, 0.5) || !in_range(threshold, 1.0) {
            return Err("contamination or threshold out of range".to_owned());
        }
        let depth = depth_limit(max_samples);
        let limits = Limits {
            depth,
            longest: f64::from(depth) + average_path_length(max_samples),
            nodes: 2 * max_samples - 1,
        };
        let mut slots = 0;
        let trees = (0..trees)
            .map(|_| r.tree(&limits, &mut slots))
            .collect::<Result<Vec<_>, _>>()?;
        if r.at != bytes.len() {
            return Err("trailing bytes after the forest".to_owned());
        }
        Ok(Forest {
            trees,
            max_samples,
            depth,
            threshold,
            training_size,
            contamination,
        })
    }
}

/// Writes the subtree in heap slot `slot`, `level` steps below the root, in preorder.
fn encode(tree: &Tree, slot: usize, level: u32, out: &mut Vec<u8>) {
    match tree.split_at(slot, level) {
        None => {
            out.push(LEAF);
            out.extend_from_slice(&tree.leaf_path(slot, level).to_le_bytes());
        }
        Some((feature, threshold)) => {
            out.push(SPLIT);
            out.push(feature);
            out.extend_from_slice(&threshold.to_le_bytes());
            encode(tree, 2 * slot, level + 1, out);
            encode(tree, 2 * slot + 1, level + 1, out);
        }
    }
}

/// A tree as read, before it is laid out: its nodes, leaf paths and deepest leaf.
struct Nodes {
    nodes: Vec<Node>,
    paths: Vec<f64>,
    depth: u32,
}

struct Limits {
    depth: u32,
    longest: f64,
    nodes: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| "the forest is truncated".to_owned())?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Reads one tree; `slots` is what the trees read so far take laid out, and grows by this
    /// one's share.
    fn tree(&mut self, limits: &Limits, slots: &mut usize) -> Result<Tree, String> {
        let mut tree = Nodes {
            nodes: vec![Node::leaf(0)],
            paths: vec![0.0],
            depth: 0,
        };
        self.node(&mut tree, 0, 0, limits)?;
        *slots += 2usize << tree.depth;
        if *slots > MAX_SLOTS {
            return Err(format!(
                "the trees take more than {MAX_SLOTS} slots laid out"
            ));
        }
        Ok(Tree::from_nodes(&tree.nodes, &tree.paths))
    }

    /// Reads the node at `at` (already allocated) and its subtree, `depth` below the root.
    fn node(
        &mut self,
        tree: &mut Nodes,
        at: u32,
        depth: u32,
        limits: &Limits,
    ) -> Result<(), String> {
        match self.u8()? {
            LEAF => {
                let path = self.f64()?;
                if !(0.0..=limits.longest).contains(&path) {
                    return Err("a leaf's path length is out of range".to_owned());
                }
                tree.paths[at as usize] = path;
                tree.depth = tree.depth.max(depth);
                Ok(())
            }
            SPLIT if depth < limits.depth && tree.nodes.len() + 2 <= limits.nodes => {
                let feature = u32::from(self.u8()?);
                let threshold = self.f64()?;
                if feature as usize >= WIDTH || !threshold.is_finite() {
                    return Err("a split names no feature or no finite threshold".to_owned());
                }
                let left = tree.nodes.len() as u32;
                tree.nodes[at as usize] = Node {
                    threshold,
                    feature,
                    left,
                };
                tree.nodes.extend([Node::leaf(left), Node::leaf(left + 1)]);
                tree.paths.extend([0.0, 0.0]);
                self.node(tree, left, depth + 1, limits)?;
                self.node(tree, left + 1, depth + 1, limits)
            }
            SPLIT => Err("a tree is deeper or larger than its samples allow".to_owned()),
            tag => Err(format!("unknown node kind {tag}")),
        }
    }
}
