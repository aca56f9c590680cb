//! A multibit trie for IPv4 longest-prefix match, with Click RadixIPLookup's shape: the first level
//! has 256 slots (8 bits), every further level 16 (4 bits), so a lookup reads at most 7 slots.
//!
//! Each node keeps the prefixes that end within its stride and expands them into its slots
//! (controlled prefix expansion: shorter prefixes first, longer ones overwrite). A lookup walks
//! down from the root remembering the last next hop it saw, so a node's slots never need to
//! inherit from its parent. Inserting or removing a prefix re-expands only the node it ends in
//! (at most 256 slots); nodes left with neither prefixes nor children are freed. Lookups allocate
//! nothing and take at most 7 steps.

use alloc::vec::Vec;

/// Bits consumed at each level.
const STRIDES: [u32; 7] = [8, 4, 4, 4, 4, 4, 4];
/// Prefix lengths covered by the levels before each one: level `k` holds lengths
/// `START[k] + 1 ..= START[k] + STRIDES[k]`.
const START: [u32; 7] = [0, 8, 12, 16, 20, 24, 28];
const ROOT_SLOTS: usize = 256;
const NODE_SLOTS: usize = 16;
const NO_PORT: u32 = u32::MAX;

/// Where a matching packet goes: an output port and a gateway (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    pub port: u32,
    pub gw: u32,
}

#[derive(Clone, Copy)]
struct Slot {
    /// `NO_PORT` when no prefix of this node covers the slot.
    port: u32,
    gw: u32,
    /// Offset of the child node's slots; 0 (the root's offset, never a child) for none.
    child: u32,
}

const EMPTY: Slot = Slot {
    port: NO_PORT,
    gw: 0,
    child: 0,
};

/// A prefix ending in a node: its bits within the node's stride (left-aligned, low bits zero)
/// and how many of them count.
#[derive(Clone, Copy)]
struct NodePrefix {
    bits: u32,
    len: u32,
    hop: Hop,
}

#[derive(Default)]
struct Node {
    level: u8,
    parent: u32,
    parent_index: u32,
    children: u32,
    /// Sorted by length, shortest first.
    prefixes: Vec<NodePrefix>,
}

pub struct Trie {
    slots: Vec<Slot>,
    /// Node `n` owns `slots[offset(n)..][..size]`; node 0 is the root.
    nodes: Vec<Node>,
    free: Vec<u32>,
    default: Option<Hop>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            slots: alloc::vec![EMPTY; ROOT_SLOTS],
            nodes: alloc::vec![Node::default()],
            free: Vec::new(),
            default: None,
        }
    }
}

#[inline]
fn offset(node: u32) -> usize {
    if node == 0 {
        0
    } else {
        ROOT_SLOTS + (node as usize - 1) * NODE_SLOTS
    }
}

#[inline]
fn node_of(off: u32) -> u32 {
    ((off as usize - ROOT_SLOTS) / NODE_SLOTS + 1) as u32
}

/// The `STRIDES[level]` bits of `addr` that index level `level`.
#[inline]
fn index(addr: u32, level: usize) -> u32 {
    (addr << START[level]) >> (32 - STRIDES[level])
}

/// The level a prefix of length `len` (1..=32) ends in.
fn level_of(len: u32) -> usize {
    (0..STRIDES.len())
        .find(|&k| len <= START[k] + STRIDES[k])
        .expect("len <= 32")
}

impl Trie {
    /// The next hop of the longest prefix containing `addr`.
    #[inline]
    pub fn lookup(&self, addr: u32) -> Option<Hop> {
        let mut best = self.default;
        let mut base = 0usize;
        for level in 0..STRIDES.len() {
            let Some(s) = self.slots.get(base + index(addr, level) as usize) else {
                break;
            };
            if s.port != NO_PORT {
                best = Some(Hop {
                    port: s.port,
                    gw: s.gw,
                });
            }
            if s.child == 0 {
                break;
            }
            base = s.child as usize;
        }
        best
    }

    /// Sets the route for `addr/len` (`addr` already masked), returning the one it replaced.
    pub fn insert(&mut self, addr: u32, len: u32, hop: Hop) -> Option<Hop> {
        if len == 0 {
            return self.default.replace(hop);
        }
        let last = level_of(len);
        let mut node = 0u32;
        for level in 0..last {
            let i = index(addr, level);
            let k = offset(node) + i as usize;
            node = match self.slots[k].child {
                0 => {
                    let child = self.new_node(level as u8 + 1, node, i);
                    self.slots[k].child = offset(child) as u32;
                    self.nodes[node as usize].children += 1;
                    child
                }
                off => node_of(off),
            };
        }
        let plen = len - START[last];
        let bits = index(addr, last);
        let n = &mut self.nodes[node as usize];
        let old = match n
            .prefixes
            .iter_mut()
            .find(|p| p.bits == bits && p.len == plen)
        {
            Some(p) => Some(core::mem::replace(&mut p.hop, hop)),
            None => {
                let at = n.prefixes.partition_point(|p| p.len <= plen);
                n.prefixes.insert(
                    at,
                    NodePrefix {
                        bits,
                        len: plen,
                        hop,
                    },
                );
                None
            }
        };
        self.expand(node);
        old
    }

    /// Removes the route for `addr/len`, returning it.
    pub fn remove(&mut self, addr: u32, len: u32) -> Option<Hop> {
        if len == 0 {
            return self.default.take();
        }
        let last = level_of(len);
        let mut node = 0u32;
        for level in 0..last {
            match self.slots[offset(node) + index(addr, level) as usize].child {
                0 => return None,
                off => node = node_of(off),
            }
        }
        let plen = len - START[last];
        let bits = index(addr, last);
        let n = &mut self.nodes[node as usize];
        let at = n
            .prefixes
            .iter()
            .position(|p| p.bits == bits && p.len == plen)?;
        let old = n.prefixes.remove(at).hop;
        self.expand(node);
        self.prune(node);
        Some(old)
    }

    fn new_node(&mut self, level: u8, parent: u32, parent_index: u32) -> u32 {
        let node = Node {
            level,
            parent,
            parent_index,
            children: 0,
            prefixes: Vec::new(),
        };
        match self.free.pop() {
            Some(n) => {
                self.nodes[n as usize] = node;
                n
            }
            None => {
                self.nodes.push(node);
                self.slots.extend_from_slice(&[EMPTY; NODE_SLOTS]);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Rewrites the next hops of a node's slots from its prefixes.
    fn expand(&mut self, node: u32) {
        let n = &self.nodes[node as usize];
        let stride = STRIDES[n.level as usize];
        let slots = &mut self.slots[offset(node)..][..1 << stride];
        for s in slots.iter_mut() {
            s.port = NO_PORT;
            s.gw = 0;
        }
        for p in &n.prefixes {
            let span = 1usize << (stride - p.len);
            for s in &mut slots[p.bits as usize..][..span] {
                s.port = p.hop.port;
                s.gw = p.hop.gw;
            }
        }
    }

    /// Frees `node` and its ancestors while they hold nothing.
    fn prune(&mut self, mut node: u32) {
        while node != 0 {
            let n = &self.nodes[node as usize];
            if !n.prefixes.is_empty() || n.children != 0 {
                return;
            }
            let (parent, i) = (n.parent, n.parent_index);
            self.slots[offset(parent) + i as usize].child = 0;
            self.nodes[parent as usize].children -= 1;
            self.slots[offset(node)..][..NODE_SLOTS].fill(EMPTY);
            self.nodes[node as usize] = Node::default();
            self.free.push(node);
            node = parent;
        }
    }

    /// Nodes in use besides the root (for tests).
    #[cfg(test)]
    fn live_nodes(&self) -> usize {
        self.nodes.len() - 1 - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mask(len: u32) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - len)
        }
    }

    fn hop(port: u32) -> Hop {
        Hop { port, gw: 0 }
    }

    fn reference(routes: &[(u32, u32, u32)], a: u32) -> Option<u32> {
        routes
            .iter()
            .filter(|(p, l, _)| a & mask(*l) == *p)
            .max_by_key(|(_, l, _)| *l)
            .map(|(_, _, port)| *port)
    }

    #[test]
    fn longest_prefix_wins_at_every_level() {
        let mut t = Trie::default();
        let v4 = |a: u8, b: u8, c: u8, d: u8| u32::from_be_bytes([a, b, c, d]);
        assert_eq!(t.lookup(v4(10, 1, 2, 3)), None);
        t.insert(0, 0, hop(0));
        t.insert(v4(10, 0, 0, 0), 8, hop(1));
        t.insert(v4(10, 1, 0, 0), 16, hop(2));
        t.insert(v4(10, 1, 2, 0), 23, hop(3));
        t.insert(v4(10, 1, 2, 3), 32, hop(4));
        t.insert(v4(10, 1, 2, 0), 31, hop(5));
        assert_eq!(t.lookup(v4(10, 1, 2, 3)), Some(hop(4)));
        assert_eq!(t.lookup(v4(10, 1, 2, 2)), Some(hop(3)));
        assert_eq!(t.lookup(v4(10, 1, 2, 1)), Some(hop(5)));
        assert_eq!(t.lookup(v4(10, 1, 3, 1)), Some(hop(3)));
        assert_eq!(t.lookup(v4(10, 1, 4, 1)), Some(hop(2)));
        assert_eq!(t.lookup(v4(10, 9, 4, 1)), Some(hop(1)));
        assert_eq!(t.lookup(v4(11, 9, 4, 1)), Some(hop(0)));
        assert_eq!(t.remove(v4(10, 1, 2, 3), 32), Some(hop(4)));
        assert_eq!(t.lookup(v4(10, 1, 2, 3)), Some(hop(3)));
        assert_eq!(t.remove(v4(10, 1, 2, 3), 32), None);
        assert_eq!(t.remove(0, 0), Some(hop(0)));
        assert_eq!(t.lookup(v4(11, 9, 4, 1)), None);
        assert_eq!(t.insert(v4(10, 0, 0, 0), 8, hop(9)), Some(hop(1)));
        assert_eq!(t.lookup(v4(10, 9, 4, 1)), Some(hop(9)));
    }

    #[test]
    fn removing_everything_frees_every_node() {
        let mut t = Trie::default();
        let routes = [
            (0x0a01_0203, 32),
            (0x0a01_0200, 24),
            (0xc0a8_0000, 16),
            (0x0a00_0000, 9),
        ];
        for (k, (a, l)) in routes.iter().enumerate() {
            t.insert(*a, *l, hop(k as u32));
        }
        assert!(t.live_nodes() > 0);
        for (a, l) in routes {
            assert!(t.remove(a, l).is_some());
        }
        assert_eq!(t.live_nodes(), 0);
        for (k, (a, l)) in routes.iter().enumerate() {
            t.insert(*a, *l, hop(k as u32));
        }
        assert_eq!(t.lookup(0x0a01_0203), Some(hop(0)));
        assert_eq!(t.nodes.len() - 1, t.live_nodes(), "freed nodes are reused");
    }

    proptest! {
        #[test]
        fn matches_a_linear_search(
            routes in proptest::collection::vec((any::<u32>(), 0u32..=32, 0u32..8), 0..40),
            removals in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
            probes in proptest::collection::vec(any::<u32>(), 0..40),
        ) {
            let mut t = Trie::default();
            let mut table: Vec<(u32, u32, u32)> = Vec::new();
            for (a, l, port) in routes {
                let a = a & mask(l);
                t.insert(a, l, hop(port));
                table.retain(|(p, q, _)| !(*p == a && *q == l));
                table.push((a, l, port));
            }
            for ix in removals {
                if table.is_empty() {
                    break;
                }
                let (a, l, port) = table.remove(ix.index(table.len()));
                prop_assert_eq!(t.remove(a, l), Some(hop(port)));
            }
            // Probe the routes' own addresses and neighbours, plus random ones.
            let mut addrs = probes;
            for (a, l, _) in &table {
                addrs.extend([*a, a | !mask(*l), a.wrapping_sub(1), a.wrapping_add(1)]);
            }
            for a in addrs {
                prop_assert_eq!(t.lookup(a).map(|h| h.port), reference(&table, a));
            }
            for (a, l, _) in table.clone() {
                t.remove(a, l);
            }
            prop_assert_eq!(t.live_nodes(), 0);
        }
    }
}
