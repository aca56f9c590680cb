//! The compiled classifier program: a decision DAG of word tests, and its compiler.
//!
//! Every classifier element reduces its patterns to [`Formula`]s over one kind of atomic [`Test`]:
//! "the 4-byte big-endian word at `base + offset`, ANDed with `mask`, lies in `lo..=hi`". A test
//! on bytes the packet does not have is false (so its negation is true). [`compile`] turns an
//! ordered list of rules (formula → output or drop; first match wins) into a [`Program`]:
//!
//! 1. each rule is compiled to short-circuit control flow (`a and b`: test `a`, on yes test `b`;
//!    on no go to the next rule), into a hash-consed DAG, so identical sub-programs exist once;
//! 2. the DAG is then rebuilt path by path while tracking what the tests taken so far imply about
//!    the packet (the *facts*): a test whose outcome the facts decide is skipped (its branch is
//!    followed directly) and the branch that cannot be taken is pruned, and a test whose two
//!    branches end up equal disappears. Re-built sub-programs are memoised on the facts that
//!    matter to them, so shared tests stay shared. A budget bounds this step; past it the rest of
//!    the DAG is copied as it is (still correct, only less optimised).
//!
//! The result is a vector of nodes where every jump goes forward, so a packet visits at most
//! `len()` nodes, with no allocation and no recursion ([`Program::run`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use hashbrown::HashMap;

/// Where a test's offset counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Base {
    /// The start of the packet data (Classifier).
    Data = 0,
    /// The IP header (IPClassifier / IPFilter).
    Ip = 1,
    /// The transport header: the IP header plus 4×IHL bytes, only in a first fragment (fragment
    /// offset 0) whose IHL is at least 5. In any other packet every transport test is false.
    Transport = 2,
}

impl Base {
    fn name(self) -> &'static str {
        match self {
            Base::Data => "data",
            Base::Ip => "ip",
            Base::Transport => "transp",
        }
    }
}

/// One atomic test. `need` (at most `offset + 4`) is how many bytes from `base` the packet must
/// have for the test to be true; bytes of the word past the end of the packet read as zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Test {
    pub base: Base,
    pub offset: u16,
    pub need: u16,
    pub mask: u32,
    pub lo: u32,
    pub hi: u32,
}

impl Test {
    /// The test as the matcher evaluates it (used by [`Formula::eval`]).
    pub fn eval(&self, v: &View<'_>) -> bool {
        match load(
            v.data,
            v.start(self.base),
            self.offset as usize,
            self.need as usize,
        ) {
            Some(w) => {
                let x = w & self.mask;
                self.lo <= x && x <= self.hi
            }
            None => false,
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}+{} & {:08x}",
            self.base.name(),
            self.offset,
            self.mask
        )?;
        if self.lo == self.hi {
            write!(f, " == {:08x}", self.lo)
        } else {
            write!(f, " in {:08x}..={:08x}", self.lo, self.hi)
        }
    }
}

/// A boolean combination of tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formula {
    Const(bool),
    Test(Test),
    Not(Box<Formula>),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    pub fn negate(f: Formula) -> Formula {
        match f {
            Formula::Const(b) => Formula::Const(!b),
            Formula::Not(g) => *g,
            f => Formula::Not(Box::new(f)),
        }
    }

    /// Direct evaluation (the reference the compiled program must agree with).
    pub fn eval(&self, v: &View<'_>) -> bool {
        match self {
            Formula::Const(b) => *b,
            Formula::Test(t) => t.eval(v),
            Formula::Not(f) => !f.eval(v),
            Formula::And(fs) => fs.iter().all(|f| f.eval(v)),
            Formula::Or(fs) => fs.iter().any(|f| f.eval(v)),
        }
    }
}

/// Start of a base that the packet does not have. Far past any packet, yet adding an offset
/// cannot overflow.
const ABSENT: usize = usize::MAX / 4;

/// A packet as the program sees it: its data and where the IP and transport headers start.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    pub data: &'a [u8],
    /// Where each [`Base`] starts in `data` ([`ABSENT`] when the packet has no such header).
    bases: [usize; 3],
}

impl<'a> View<'a> {
    /// Raw data only (Classifier): the IP and transport bases are absent.
    pub fn data(data: &'a [u8]) -> View<'a> {
        View {
            data,
            bases: [0, ABSENT, ABSENT],
        }
    }

    /// An IP packet whose header starts at `ip` (the network-header annotation; 0 if unset). The
    /// transport header is found from the IHL, in first fragments only.
    #[inline]
    pub fn ip(data: &'a [u8], ip: usize) -> View<'a> {
        if ip > data.len() {
            return View::data(data);
        }
        let tp = match data.get(ip..ip + 8) {
            Some(h) => {
                let ihl = (h[0] & 0x0f) as usize;
                let frag = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
                if ihl >= 5 && frag == 0 {
                    ip + 4 * ihl
                } else {
                    ABSENT
                }
            }
            None => ABSENT,
        };
        View {
            data,
            bases: [0, ip, tp],
        }
    }

    /// Selected from registers (no load): keeps a memory access off each test's critical path.
    #[inline(always)]
    fn start(&self, b: Base) -> usize {
        match b {
            Base::Data => 0,
            Base::Ip => self.bases[1],
            Base::Transport => self.bases[2],
        }
    }

    /// The transport header, if the packet has one by the rule of [`Base::Transport`].
    pub fn transport(&self) -> Option<&'a [u8]> {
        self.data.get(self.bases[2]..)
    }

    pub fn ip_header(&self) -> Option<&'a [u8]> {
        self.data.get(self.bases[1]..)
    }
}

#[inline(always)]
fn load(data: &[u8], start: usize, off: usize, need: usize) -> Option<u32> {
    let s = start + off;
    match data.get(s..s + 4) {
        Some(b) => Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => load_short(data, start, off, need),
    }
}

/// A word that runs past the end of the packet: present if the bytes the test needs are.
#[cold]
#[inline(never)]
fn load_short(data: &[u8], start: usize, off: usize, need: usize) -> Option<u32> {
    if start + need > data.len() {
        return None;
    }
    let s = start + off;
    let mut w = [0u8; 4];
    let n = data.len().saturating_sub(s).min(4);
    if n > 0 {
        w[..n].copy_from_slice(&data[s..s + n]);
    }
    Some(u32::from_be_bytes(w))
}

/// While compiling, jump targets at or above this are leaves: `LEAF | output`, or [`DROP`].
const LEAF: u32 = 1 << 31;
/// The action "drop".
const DROP: u32 = u32::MAX;

fn leaf(action: Option<usize>) -> u32 {
    match action {
        Some(k) => LEAF | (k as u32).min(LEAF - 2),
        None => DROP,
    }
}

/// One test, 32 bytes: `(word & mask).wrapping_sub(lo) <= span` picks `next[1]`, else
/// `next[0]`.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Node {
    mask: u32,
    lo: u32,
    span: u32,
    next: [u32; 2],
    offset: u32,
    need: u16,
    base: Base,
}

impl Node {
    /// A leaf: a test that always passes and jumps to itself, so walks can step past the end.
    fn leaf(at: u32) -> Node {
        Node {
            mask: 0,
            lo: 0,
            span: 0,
            next: [at, at],
            offset: 0,
            need: 0,
            base: Base::Data,
        }
    }

    fn test(&self) -> Test {
        Test {
            base: self.base,
            offset: self.offset as u16,
            need: self.need,
            mask: self.mask,
            lo: self.lo,
            hi: self.lo.wrapping_add(self.span),
        }
    }
}

/// A compiled classifier: run it on a packet to get the output of the first matching rule.
///
/// Nodes `0..first_leaf` are tests and every jump goes forward; nodes from `first_leaf` on are
/// leaves (one per action) that loop on themselves (so a walk may step past its end).
#[derive(Clone, Debug)]
pub struct Program {
    nodes: Vec<Node>,
    start: u32,
    first_leaf: u32,
    /// Per leaf: an output, or [`DROP`].
    actions: Vec<u32>,
    /// For programs of at most [`PARALLEL_MAX`] tests: the leaf each set of test outcomes leads to,
    /// remembered for the outcome sets seen lately (direct-mapped; a key of `u64::MAX` is empty,
    /// and cannot occur since a program here has fewer than 64 tests).
    memo: Memo,
}

/// Programs with at most this many tests run every test, then look their outcome up.
const PARALLEL_MAX: u32 = 63;
const MEMO_SLOTS: usize = 64;

/// The walk's result per outcome set; a cache, so it is interior-mutable and starts empty in
/// every copy.
struct Memo([core::cell::Cell<(u64, u32)>; MEMO_SLOTS]);

impl Memo {
    fn new() -> Memo {
        Memo(core::array::from_fn(|_| {
            core::cell::Cell::new((u64::MAX, 0))
        }))
    }
}

impl Clone for Memo {
    fn clone(&self) -> Memo {
        Memo::new()
    }
}

impl core::fmt::Debug for Memo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Memo")
    }
}

impl Default for Program {
    fn default() -> Program {
        Program {
            nodes: alloc::vec![Node::leaf(0)],
            start: 0,
            first_leaf: 0,
            actions: alloc::vec![DROP],
            memo: Memo::new(),
        }
    }
}

impl Program {
    /// One test: the node to go to next.
    #[inline(always)]
    fn step(&self, t: u32, v: &View<'_>) -> u32 {
        // Targets are checked at construction: always a node index.
        let n = &self.nodes[t as usize];
        let pass = match load(v.data, v.start(n.base), n.offset as usize, n.need as usize) {
            Some(w) => (w & n.mask).wrapping_sub(n.lo) <= n.span,
            None => false,
        };
        // Indexed, not branched on: which way a packet goes is data, not worth predicting.
        n.next[pass as usize]
    }

    #[inline(always)]
    fn action(&self, t: u32) -> u32 {
        self.actions[(t - self.first_leaf) as usize]
    }

    /// The output of the first rule the packet matches, or `None` (drop).
    #[inline]
    pub fn run(&self, v: &View<'_>) -> Option<usize> {
        if self.first_leaf <= PARALLEL_MAX {
            return self.run_parallel(v);
        }
        let mut t = self.start;
        while t < self.first_leaf {
            t = self.step(t, v);
        }
        Program::decode(self.action(t))
    }

    /// For programs of up to 64 tests: every test first, into a bit set — the tests do not depend
    /// on each other, so the CPU overlaps their loads — then the walk, which only reads bits. A
    /// packet that ends up testing many nodes (the last of several rules) gains the most.
    #[inline]
    fn run_parallel(&self, v: &View<'_>) -> Option<usize> {
        let mut bits = 0u64;
        for (i, n) in self.nodes[..self.first_leaf as usize].iter().enumerate() {
            let pass = match load(v.data, v.start(n.base), n.offset as usize, n.need as usize) {
                Some(w) => (w & n.mask).wrapping_sub(n.lo) <= n.span,
                None => false,
            };
            bits |= (pass as u64) << i;
        }
        // The walk depends on the outcomes only: remember it for recent outcome sets.
        let slot = &self.memo.0[(bits.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize];
        let (key, leaf) = slot.get();
        if key == bits {
            return Program::decode(self.action(leaf));
        }
        let mut t = self.start;
        while t < self.first_leaf {
            t = self.nodes[t as usize].next[((bits >> t) & 1) as usize];
        }
        slot.set((bits, t));
        Program::decode(self.action(t))
    }

    #[inline(always)]
    fn decode(r: u32) -> Option<usize> {
        (r != DROP).then_some(r as usize)
    }

    /// Number of test nodes.
    pub fn len(&self) -> usize {
        self.first_leaf as usize
    }

    pub fn is_empty(&self) -> bool {
        self.first_leaf == 0
    }

    /// The largest number of tests any packet goes through.
    pub fn max_depth(&self) -> usize {
        let fl = self.first_leaf as usize;
        let mut depth = alloc::vec![0usize; self.nodes.len()];
        for i in (0..fl).rev() {
            let n = &self.nodes[i];
            depth[i] = 1 + depth[n.next[1] as usize].max(depth[n.next[0] as usize]);
        }
        depth[self.start as usize]
    }

    /// Whether some packet path reaches output `k` (a rule that can never match does not).
    pub fn reaches(&self, k: usize) -> bool {
        let fl = self.first_leaf;
        let hit = |t: u32| t >= fl && self.action(t) == k as u32;
        hit(self.start)
            || self.nodes[..fl as usize]
                .iter()
                .any(|n| hit(n.next[1]) || hit(n.next[0]))
    }

    /// The program as text, one test a line (the `program` handler).
    pub fn dump(&self) -> String {
        let mut s = String::new();
        let tgt = |t: u32| -> String {
            if t < self.first_leaf {
                alloc::format!("{t}")
            } else if self.action(t) == DROP {
                "[drop]".into()
            } else {
                alloc::format!("[{}]", self.action(t))
            }
        };
        let _ = writeln!(s, "start -> {}", tgt(self.start));
        for (i, n) in self.nodes[..self.first_leaf as usize].iter().enumerate() {
            let _ = writeln!(
                s,
                "{i:3}  {}  yes -> {}  no -> {}",
                n.test(),
                tgt(n.next[1]),
                tgt(n.next[0])
            );
        }
        s
    }
}

/// Hash-consed decision DAG under construction: a node's children always come before it.
#[derive(Default)]
struct Dag {
    nodes: Vec<(Test, u32, u32)>,
    index: HashMap<(Test, u32, u32), u32>,
}

impl Dag {
    fn mk(&mut self, t: Test, yes: u32, no: u32) -> u32 {
        if yes == no {
            return yes;
        }
        let nodes = &mut self.nodes;
        *self.index.entry((t, yes, no)).or_insert_with(|| {
            nodes.push((t, yes, no));
            (nodes.len() - 1) as u32
        })
    }

    /// Short-circuit code for `f`: to `yes` when it holds, to `no` when not.
    fn formula(&mut self, f: &Formula, yes: u32, no: u32) -> u32 {
        match f {
            Formula::Const(true) => yes,
            Formula::Const(false) => no,
            Formula::Test(t) => self.mk(*t, yes, no),
            Formula::Not(g) => self.formula(g, no, yes),
            Formula::And(gs) => gs.iter().rev().fold(yes, |y, g| self.formula(g, y, no)),
            Formula::Or(gs) => gs.iter().rev().fold(no, |n, g| self.formula(g, yes, n)),
        }
    }
}

/// Compiles rules tried in order (first match wins; no match drops) into a program. Each rule is
/// a formula and its action: `Some(output)` or `None` (drop).
pub fn compile(rules: &[(Formula, Option<usize>)]) -> Program {
    compile_with_budget(rules, 20_000)
}

/// [`compile`] with a bound on the optimisation work (tests use small ones).
pub fn compile_with_budget(rules: &[(Formula, Option<usize>)], budget: usize) -> Program {
    let mut dag = Dag::default();
    let mut next = DROP;
    for (f, action) in rules.iter().rev() {
        next = dag.formula(f, leaf(*action), next);
    }
    let mut opt = Optimizer::new(&dag, budget);
    let mut facts = Vec::new();
    let start = opt.opt(next, &mut facts);
    finish(&opt.out, start)
}

/// Keeps the nodes reachable from `start`, numbered so that every jump goes forward.
fn finish(dag: &Dag, start: u32) -> Program {
    let mut reach = alloc::vec![false; dag.nodes.len()];
    let mut stack = Vec::new();
    if start < LEAF {
        stack.push(start);
    }
    while let Some(t) = stack.pop() {
        if core::mem::replace(&mut reach[t as usize], true) {
            continue;
        }
        let (_, y, n) = dag.nodes[t as usize];
        for c in [y, n] {
            if c < LEAF {
                stack.push(c);
            }
        }
    }
    // Children precede parents in the DAG; reversing the order makes every jump forward.
    let order: Vec<usize> = (0..dag.nodes.len()).rev().filter(|&i| reach[i]).collect();
    let mut new_id = alloc::vec![u32::MAX; dag.nodes.len()];
    for (k, &i) in order.iter().enumerate() {
        new_id[i] = k as u32;
    }
    // Leaves after the tests, one per action used.
    let first_leaf = order.len() as u32;
    let mut actions: Vec<u32> = Vec::new();
    let mut leaf_of = |t: u32| -> u32 {
        let a = if t == DROP { DROP } else { t & !LEAF };
        let k = match actions.iter().position(|&x| x == a) {
            Some(k) => k,
            None => {
                actions.push(a);
                actions.len() - 1
            }
        };
        first_leaf + k as u32
    };
    let mut map = |t: u32| {
        if t < LEAF {
            new_id[t as usize]
        } else {
            leaf_of(t)
        }
    };
    let start = map(start);
    let mut nodes: Vec<Node> = order
        .iter()
        .map(|&i| {
            let (t, y, n) = dag.nodes[i];
            Node {
                mask: t.mask,
                lo: t.lo,
                span: t.hi.wrapping_sub(t.lo),
                next: [map(n), map(y)],
                offset: t.offset as u32,
                need: t.need,
                base: t.base,
            }
        })
        .collect();
    for k in 0..actions.len() {
        nodes.push(Node::leaf(first_leaf + k as u32));
    }
    let p = Program {
        nodes,
        start,
        first_leaf,
        actions,
        memo: Memo::new(),
    };
    debug_assert!(p.nodes[..first_leaf as usize]
        .iter()
        .enumerate()
        .all(|(i, n)| n
            .next
            .iter()
            .all(|&t| t as usize > i && (t as usize) < p.nodes.len())));
    p
}

type Fact = (Test, bool);

/// Facts about one word that the optimiser keeps (the most recent).
const MAX_FACTS: u8 = 8;
/// Past this many tests on a path, the rest of the DAG is copied as it is (this bounds the
/// recursion, and facts that old rarely decide anything).
const MAX_PATH: usize = 64;

/// Rebuilds a DAG along its paths, deciding tests from the facts of the path.
struct Optimizer<'a> {
    src: &'a Dag,
    /// For each source node: the words (base, offset) tested in its sub-DAG, as a bitset over
    /// `word_ids`, and the largest `need` per base there.
    words: Vec<Vec<u64>>,
    max_need: Vec<[u16; 3]>,
    word_ids: HashMap<(Base, u16), usize>,
    out: Dag,
    memo: HashMap<(u32, Vec<Fact>, [u16; 3]), u32>,
    copies: HashMap<u32, u32>,
    budget: usize,
    /// Scratch: facts kept per word.
    per_word: Vec<u8>,
}

impl<'a> Optimizer<'a> {
    fn new(src: &'a Dag, budget: usize) -> Optimizer<'a> {
        let mut word_ids = HashMap::new();
        for (t, _, _) in &src.nodes {
            let n = word_ids.len();
            word_ids.entry((t.base, t.offset)).or_insert(n);
        }
        let nwords = word_ids.len().div_ceil(64);
        let mut words: Vec<Vec<u64>> = Vec::with_capacity(src.nodes.len());
        let mut max_need: Vec<[u16; 3]> = Vec::with_capacity(src.nodes.len());
        for (t, y, n) in &src.nodes {
            let mut w = alloc::vec![0u64; nwords];
            let mut m = [0u16; 3];
            let id = word_ids[&(t.base, t.offset)];
            w[id / 64] |= 1 << (id % 64);
            m[t.base as usize] = t.need;
            for c in [*y, *n] {
                if c < LEAF {
                    for (a, b) in w.iter_mut().zip(&words[c as usize]) {
                        *a |= b;
                    }
                    for (a, b) in m.iter_mut().zip(&max_need[c as usize]) {
                        *a = (*a).max(*b);
                    }
                }
            }
            words.push(w);
            max_need.push(m);
        }
        Optimizer {
            src,
            words,
            max_need,
            word_ids,
            out: Dag::default(),
            memo: HashMap::new(),
            copies: HashMap::new(),
            budget,
            per_word: Vec::new(),
        }
    }

    /// The sub-DAG at `t` as it is (no facts), iteratively: DAGs can be deep.
    fn copy(&mut self, t: u32) -> u32 {
        let mut stack = alloc::vec![t];
        while let Some(&x) = stack.last() {
            if x >= LEAF || self.copies.contains_key(&x) {
                stack.pop();
                continue;
            }
            let (test, y, n) = self.src.nodes[x as usize];
            let done = |c: u32, copies: &HashMap<u32, u32>| {
                if c >= LEAF {
                    Some(c)
                } else {
                    copies.get(&c).copied()
                }
            };
            match (done(y, &self.copies), done(n, &self.copies)) {
                (Some(y), Some(n)) => {
                    let r = self.out.mk(test, y, n);
                    self.copies.insert(x, r);
                    stack.pop();
                }
                (y2, n2) => {
                    if y2.is_none() {
                        stack.push(y);
                    }
                    if n2.is_none() {
                        stack.push(n);
                    }
                }
            }
        }
        if t >= LEAF {
            t
        } else {
            self.copies[&t]
        }
    }

    /// `facts`: the path's facts, each with its word id.
    fn opt(&mut self, t: u32, facts: &mut Vec<(Fact, u32)>) -> u32 {
        if t >= LEAF {
            return t;
        }
        if self.budget == 0 || facts.len() >= MAX_PATH {
            return self.copy(t);
        }
        self.budget -= 1;
        let (test, yes, no) = self.src.nodes[t as usize];
        // What the sub-DAG can depend on: facts about its words, and how many bytes of each base
        // are known to be present (capped at what it could ever ask for).
        // At most MAX_FACTS per word, the most recent: enough to decide repeated tests, and it
        // keeps keys small and the work per node bounded.
        let words = &self.words[t as usize];
        self.per_word.clear();
        self.per_word.resize(self.word_ids.len(), 0);
        let mut relevant: Vec<Fact> = Vec::new();
        for (f, id) in facts.iter().rev() {
            let id = *id as usize;
            if words[id / 64] & (1 << (id % 64)) != 0 && self.per_word[id] < MAX_FACTS {
                self.per_word[id] += 1;
                relevant.push(*f);
            }
        }
        relevant.sort_unstable();
        relevant.dedup();
        let mut avail = [0u16; 3];
        for ((f, v), _) in facts.iter() {
            if *v {
                let a = &mut avail[f.base as usize];
                *a = (*a).max(f.need);
            }
        }
        for (a, m) in avail.iter_mut().zip(&self.max_need[t as usize]) {
            *a = (*a).min(*m);
        }
        let decided = decide(&test, &relevant, &avail);
        let key = (t, relevant, avail);
        if let Some(&r) = self.memo.get(&key) {
            return r;
        }
        let r = match decided {
            Some(true) => self.opt(yes, facts),
            Some(false) => self.opt(no, facts),
            None => {
                let id = self.word_ids[&(test.base, test.offset)] as u32;
                facts.push(((test, true), id));
                let y = self.opt(yes, facts);
                facts.pop();
                facts.push(((test, false), id));
                let n = self.opt(no, facts);
                facts.pop();
                self.out.mk(test, y, n)
            }
        };
        self.memo.insert(key, r);
        r
    }
}

/// Whether the facts (about this path's packets) decide test `t`. `avail[base]`: bytes known
/// to be present from that base. Sound, not complete: `None` when unsure.
fn decide(t: &Test, facts: &[Fact], avail: &[u16; 3]) -> Option<bool> {
    let have = |need: u16| need <= avail[t.base as usize];
    let same: Vec<&Fact> = facts
        .iter()
        .filter(|(f, _)| f.base == t.base && f.offset == t.offset)
        .collect();
    // 1. Interval reasoning over facts with the same mask: the set of values w & mask can take.
    let mut allowed: Vec<(u32, u32)> = alloc::vec![(0, t.mask)];
    for (f, v) in same.iter().copied() {
        if f == t {
            return Some(*v);
        }
        if f.mask != t.mask {
            continue;
        }
        if *v {
            allowed = intersect(&allowed, f.lo, f.hi);
        } else if have(f.need) {
            allowed = subtract(&allowed, f.lo, f.hi);
        } else if t.need >= f.need && f.lo <= t.lo && t.hi <= f.hi {
            // `t` would imply `f`, which is false.
            return Some(false);
        }
    }
    if allowed.iter().all(|&(a, b)| b < t.lo || a > t.hi) {
        return Some(false);
    }
    if have(t.need) && allowed.iter().all(|&(a, b)| t.lo <= a && b <= t.hi) {
        return Some(true);
    }
    // 2. Bit reasoning: bits fixed by facts that are single values, under any mask.
    let (mut km, mut kv) = (0u32, 0u32);
    for (f, v) in same.iter().copied() {
        if *v && f.lo == f.hi {
            km |= f.mask;
            kv |= f.lo & f.mask;
        }
    }
    if t.mask & !km == 0 {
        let x = kv & t.mask;
        let inside = t.lo <= x && x <= t.hi;
        if !inside {
            return Some(false);
        }
        if have(t.need) {
            return Some(true);
        }
    }
    if t.lo == t.hi {
        if (t.lo ^ kv) & km & t.mask != 0 {
            return Some(false);
        }
        // `t` implies a false single-value fact whose mask `t` covers.
        for (f, v) in same.iter().copied() {
            if !*v
                && f.lo == f.hi
                && f.mask & !t.mask == 0
                && t.need >= f.need
                && t.lo & f.mask == f.lo
            {
                return Some(false);
            }
        }
    }
    None
}

fn intersect(set: &[(u32, u32)], lo: u32, hi: u32) -> Vec<(u32, u32)> {
    set.iter()
        .filter_map(|&(a, b)| {
            let (a, b) = (a.max(lo), b.min(hi));
            (a <= b).then_some((a, b))
        })
        .collect()
}

fn subtract(set: &[(u32, u32)], lo: u32, hi: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for &(a, b) in set {
        if b < lo || a > hi {
            out.push((a, b));
            continue;
        }
        if a < lo {
            out.push((a, lo - 1));
        }
        if b > hi {
            out.push((hi + 1, b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(base: Base, offset: u16, len: u16, mask: u32, lo: u32, hi: u32) -> Formula {
        Formula::Test(Test {
            base,
            offset,
            need: offset + len,
            mask,
            lo,
            hi,
        })
    }

    #[test]
    fn first_match_wins_and_drop_when_none() {
        let f0 = t(Base::Data, 0, 1, 0xff00_0000, 0x0100_0000, 0x0100_0000);
        let f1 = Formula::Const(true);
        let p = compile(&[(f0, Some(3)), (f1, Some(1))]);
        assert_eq!(p.run(&View::data(&[1, 2, 3])), Some(3));
        assert_eq!(p.run(&View::data(&[2, 2, 3])), Some(1));
        let p = compile(&[(Formula::Const(false), Some(0))]);
        assert_eq!(p.run(&View::data(&[1])), None);
        assert!(p.is_empty() && !p.reaches(0));
    }

    #[test]
    fn short_packets_fail_tests() {
        let f = t(Base::Data, 4, 4, 0x0000_ffff, 0x0800, 0x0800);
        let p = compile(&[(f.clone(), Some(0)), (Formula::negate(f), Some(1))]);
        assert_eq!(p.run(&View::data(&[0, 0, 0, 0, 0, 0, 0x08, 0])), Some(0));
        assert_eq!(p.run(&View::data(&[0, 0, 0, 0, 0, 0, 0x08])), Some(1));
        assert_eq!(p.run(&View::data(&[])), Some(1));
    }

    #[test]
    fn repeated_tests_are_decided_by_the_path() {
        // proto == 6 tested by two rules: the second copy is decided on both paths.
        let tcp = t(Base::Ip, 8, 2, 0x00ff_0000, 0x0006_0000, 0x0006_0000);
        let p80 = t(Base::Transport, 0, 4, 0x0000_ffff, 80, 80);
        let p443 = t(Base::Transport, 0, 4, 0x0000_ffff, 443, 443);
        let rules = [
            (Formula::And(alloc::vec![tcp.clone(), p80]), Some(0)),
            (Formula::And(alloc::vec![tcp, p443]), Some(1)),
        ];
        let p = compile(&rules);
        assert_eq!(p.len(), 3, "{}", p.dump());
        assert_eq!(p.max_depth(), 3);
    }

    #[test]
    fn interval_facts_prune() {
        let lt = t(Base::Data, 0, 2, 0xffff_0000, 0, 1023 << 16);
        let eq = t(Base::Data, 0, 2, 0xffff_0000, 80 << 16, 80 << 16);
        let eq2 = t(Base::Data, 0, 2, 0xffff_0000, 8080 << 16, 8080 << 16);
        // After "x < 1024" fails, "x == 80" is false; after it holds, "x == 8080" is false.
        let p = compile(&[
            (lt.clone(), Some(0)),
            (eq.clone(), Some(1)),
            (Formula::And(alloc::vec![lt, eq2]), Some(2)),
        ]);
        assert_eq!(p.len(), 1, "{}", p.dump());
        assert!(!p.reaches(1) && !p.reaches(2));
    }

    #[test]
    fn budget_exhaustion_still_correct() {
        let tcp = t(Base::Ip, 8, 2, 0x00ff_0000, 0x0006_0000, 0x0006_0000);
        let rules = [(tcp.clone(), Some(0)), (tcp, Some(1))];
        let p = compile_with_budget(&rules, 0);
        let mut pkt = [0u8; 20];
        pkt[9] = 6;
        assert_eq!(p.run(&View::ip(&pkt, 0)), Some(0));
        pkt[9] = 7;
        assert_eq!(p.run(&View::ip(&pkt, 0)), None);
    }

    #[test]
    fn transport_base_only_in_first_fragments() {
        let mut pkt = [0u8; 28];
        pkt[0] = 0x45;
        pkt[20] = 0xab;
        let f = t(Base::Transport, 0, 1, 0xff00_0000, 0xab00_0000, 0xab00_0000);
        let p = compile(&[(f, Some(0))]);
        assert_eq!(p.run(&View::ip(&pkt, 0)), Some(0));
        pkt[7] = 1; // fragment offset 8
        assert_eq!(p.run(&View::ip(&pkt, 0)), None);
        pkt[7] = 0;
        pkt[0] = 0x44; // IHL 4: no transport header
        assert_eq!(p.run(&View::ip(&pkt, 0)), None);
        pkt[0] = 0x46; // IHL 6: transport at 24
        assert_eq!(p.run(&View::ip(&pkt, 0)), None);
        pkt[24] = 0xab;
        assert_eq!(p.run(&View::ip(&pkt, 0)), Some(0));
        assert_eq!(p.run(&View::ip(&pkt, 40)), None);
    }
}
