//! Extending the PV bootstrap page tables (x86_64, 4 levels, 4 KiB pages).
//!
//! Xen maps only the first few MiB of a PV guest (image, boot structures, 512 KiB, rounded up
//! to 4 MiB). [`Mapper`] adds mappings for the rest, following the PV rules that Xen enforces:
//!
//! * page-table pages are never mapped writable: a new table page is zeroed through its
//!   existing (writable) mapping, then that mapping is made read-only, and only then is the
//!   page linked into its parent (`mmu_update` validates it as a table);
//! * entries are written with `mmu_update` at the table's *machine* address;
//! * table pages are read through their 1:1 virtual address (VA = PFN << 12).
//!
//! The hypervisor-facing operations are behind [`PtEnv`], so the walk and the ordering are unit
//! tested on the host against a model that checks the same rules.

use crate::abi::{pte, MmuUpdate, MMU_NORMAL_PT_UPDATE, PAGE_SHIFT};

pub const ENTRIES: usize = 512;

/// Index of `va` in its level-`level` table (1 = leaf, 4 = root).
#[inline]
pub fn index(level: u32, va: u64) -> usize {
    debug_assert!((1..=4).contains(&level));
    ((va >> (PAGE_SHIFT + 9 * (level - 1))) & 0x1ff) as usize
}

/// The machine frame an entry points to.
#[inline]
pub fn entry_mfn(e: u64) -> u64 {
    (e & pte::ADDR_MASK) >> PAGE_SHIFT
}

#[inline]
pub fn make_entry(mfn: u64, flags: u64) -> u64 {
    (mfn << PAGE_SHIFT) | flags
}

/// Machine address of entry `index` of the table in machine frame `table_mfn`.
#[inline]
pub fn entry_maddr(table_mfn: u64, index: usize) -> u64 {
    (table_mfn << PAGE_SHIFT) + (index as u64) * 8
}

/// What the mapper needs from the hypervisor and the memory layout.
pub trait PtEnv {
    fn pfn_to_mfn(&self, pfn: u64) -> u64;
    fn mfn_to_pfn(&self, mfn: u64) -> u64;
    /// Entry `index` of the page table whose frame is `table_pfn` (read through its VA).
    fn read_entry(&self, table_pfn: u64, index: usize) -> u64;
    /// Zeroes frame `pfn` through its (mapped, writable) VA.
    fn zero_page(&mut self, pfn: u64);
    /// `HYPERVISOR_mmu_update(reqs, n, NULL, DOMID_SELF)`: Err(Xen errno) on failure.
    fn mmu_update(&mut self, reqs: &[MmuUpdate]) -> Result<(), i64>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No free frame for a new page table.
    NoTableFrame,
    /// Xen refused an update (errno, negative).
    Hypervisor(i64),
    /// The VA of the frame needed for a table is not mapped.
    NotMapped(u64),
}

const BATCH: usize = 128;

/// Adds leaf mappings to the live page tables, creating intermediate tables as needed from a
/// bump range of frames that are already mapped.
pub struct Mapper<'e, E: PtEnv> {
    env: &'e mut E,
    l4_pfn: u64,
    next_table_pfn: u64,
    table_limit_pfn: u64,
    batch: [MmuUpdate; BATCH],
    queued: usize,
    tables_made: u64,
}

impl<'e, E: PtEnv> Mapper<'e, E> {
    /// `l4_pfn`: the root table (`pt_base >> 12`). New table frames are taken from
    /// `[first_table_pfn, table_limit_pfn)`, which must be mapped and otherwise unused.
    pub fn new(env: &'e mut E, l4_pfn: u64, first_table_pfn: u64, table_limit_pfn: u64) -> Self {
        Mapper {
            env,
            l4_pfn,
            next_table_pfn: first_table_pfn,
            table_limit_pfn,
            batch: [MmuUpdate::default(); BATCH],
            queued: 0,
            tables_made: 0,
        }
    }

    /// The first frame not taken for page tables.
    pub fn next_free_pfn(&self) -> u64 {
        self.next_table_pfn
    }

    pub fn tables_made(&self) -> u64 {
        self.tables_made
    }

    /// The leaf entry for `va`, if every level is present.
    pub fn lookup(&self, va: u64) -> Option<u64> {
        let mut table = self.l4_pfn;
        for level in (1..=4).rev() {
            let e = self.env.read_entry(table, index(level, va));
            if e & pte::PRESENT == 0 {
                return None;
            }
            if level == 1 {
                return Some(e);
            }
            table = self.env.mfn_to_pfn(entry_mfn(e));
        }
        unreachable!()
    }

    /// Machine address of the leaf entry for `va` (all upper levels must be present).
    fn leaf_maddr(&self, va: u64) -> Option<u64> {
        let mut table = self.l4_pfn;
        for level in (2..=4).rev() {
            let e = self.env.read_entry(table, index(level, va));
            if e & pte::PRESENT == 0 {
                return None;
            }
            table = self.env.mfn_to_pfn(entry_mfn(e));
        }
        Some(entry_maddr(self.env.pfn_to_mfn(table), index(1, va)))
    }

    /// Sends the queued leaf updates.
    pub fn flush(&mut self) -> Result<(), MapError> {
        if self.queued > 0 {
            let n = self.queued;
            self.queued = 0;
            self.env
                .mmu_update(&self.batch[..n])
                .map_err(MapError::Hypervisor)?;
        }
        Ok(())
    }

    fn push(&mut self, ptr: u64, val: u64) -> Result<(), MapError> {
        self.batch[self.queued] = MmuUpdate {
            ptr: ptr | MMU_NORMAL_PT_UPDATE,
            val,
        };
        self.queued += 1;
        if self.queued == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Takes a frame for a new table at `level`, makes it a valid empty read-only table and
    /// links it into `parent_pfn[idx]`. Returns the new table's PFN.
    fn new_table(&mut self, parent_pfn: u64, idx: usize) -> Result<u64, MapError> {
        if self.next_table_pfn >= self.table_limit_pfn {
            return Err(MapError::NoTableFrame);
        }
        let pfn = self.next_table_pfn;
        self.next_table_pfn += 1;
        // Pending leaf updates first: the walk below must see a consistent tree.
        self.flush()?;
        let self_pte = self
            .leaf_maddr(pfn << PAGE_SHIFT)
            .ok_or(MapError::NotMapped(pfn))?;
        self.env.zero_page(pfn);
        let mfn = self.env.pfn_to_mfn(pfn);
        // 1. its own mapping becomes read-only; 2. link it.
        self.env
            .mmu_update(&[MmuUpdate {
                ptr: self_pte | MMU_NORMAL_PT_UPDATE,
                val: make_entry(mfn, pte::L1_PROT_RO),
            }])
            .map_err(MapError::Hypervisor)?;
        self.env
            .mmu_update(&[MmuUpdate {
                ptr: entry_maddr(self.env.pfn_to_mfn(parent_pfn), idx) | MMU_NORMAL_PT_UPDATE,
                val: make_entry(mfn, pte::TABLE_PROT),
            }])
            .map_err(MapError::Hypervisor)?;
        self.tables_made += 1;
        Ok(pfn)
    }

    /// Queues a mapping of `va` to machine frame `mfn` with leaf `flags`, creating missing
    /// tables. Call [`Self::flush`] before relying on it.
    pub fn map(&mut self, va: u64, mfn: u64, flags: u64) -> Result<(), MapError> {
        let mut table = self.l4_pfn;
        for level in (2..=4).rev() {
            let idx = index(level, va);
            let e = self.env.read_entry(table, idx);
            table = if e & pte::PRESENT == 0 {
                self.new_table(table, idx)?
            } else {
                self.env.mfn_to_pfn(entry_mfn(e))
            };
        }
        let ptr = entry_maddr(self.env.pfn_to_mfn(table), index(1, va));
        self.push(ptr, make_entry(mfn, flags))
    }

    /// Maps every frame of `[from_pfn, to_pfn)` at VA = PFN << 12 that is not mapped yet.
    /// Returns how many were added.
    pub fn map_identity(&mut self, from_pfn: u64, to_pfn: u64) -> Result<u64, MapError> {
        let mut added = 0;
        for pfn in from_pfn..to_pfn {
            let va = pfn << PAGE_SHIFT;
            if self.lookup(va).is_none() {
                let mfn = self.env.pfn_to_mfn(pfn);
                self.map(va, mfn, pte::L1_PROT)?;
                added += 1;
            }
        }
        self.flush()?;
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// A model of a PV guest's memory and of Xen's page-table checks.
    struct Model {
        /// Frame contents by MFN (only tables and zeroed pages are modelled).
        frames: HashMap<u64, Vec<u64>>,
        p2m: Vec<u64>,
        m2p: HashMap<u64, u64>,
        l4_mfn: u64,
        updates: usize,
        hypercalls: usize,
    }

    const OFF: u64 = 0x5000; // mfn = pfn * 3 + OFF: not an identity

    impl Model {
        /// Bootstrap like Xen's builder: frames [0, mapped) mapped; tables at the given PFNs.
        fn new(nr_pages: u64, mapped: u64, pt_pfn: u64) -> Model {
            let p2m: Vec<u64> = (0..nr_pages).map(|p| p * 3 + OFF).collect();
            let m2p = p2m
                .iter()
                .enumerate()
                .map(|(p, &m)| (m, p as u64))
                .collect();
            let mut m = Model {
                frames: HashMap::new(),
                p2m,
                m2p,
                l4_mfn: 0,
                updates: 0,
                hypercalls: 0,
            };
            // Tables: l4, l3, l2, then l1s for `mapped` pages.
            let nl1 = mapped.div_ceil(512);
            let (l4, l3, l2) = (pt_pfn, pt_pfn + 1, pt_pfn + 2);
            let tables: HashSet<u64> = (pt_pfn..pt_pfn + 3 + nl1).collect();
            for t in &tables {
                m.frames.insert(m.p2m[*t as usize], vec![0; 512]);
            }
            m.l4_mfn = m.p2m[l4 as usize];
            m.frames.get_mut(&m.p2m[l4 as usize]).unwrap()[0] =
                make_entry(m.p2m[l3 as usize], pte::TABLE_PROT);
            m.frames.get_mut(&m.p2m[l3 as usize]).unwrap()[0] =
                make_entry(m.p2m[l2 as usize], pte::TABLE_PROT);
            for i in 0..nl1 {
                let l1 = pt_pfn + 3 + i;
                m.frames.get_mut(&m.p2m[l2 as usize]).unwrap()[i as usize] =
                    make_entry(m.p2m[l1 as usize], pte::TABLE_PROT);
            }
            for pfn in 0..mapped {
                let l1 = pt_pfn + 3 + pfn / 512;
                let flags = if tables.contains(&pfn) {
                    pte::L1_PROT_RO
                } else {
                    pte::L1_PROT
                };
                let e = make_entry(m.p2m[pfn as usize], flags);
                m.frames.get_mut(&m.p2m[l1 as usize]).unwrap()[(pfn % 512) as usize] = e;
            }
            m
        }

        /// Table level of every table frame reachable from the root.
        fn levels(&self) -> HashMap<u64, u32> {
            let mut out = HashMap::new();
            let mut stack = vec![(self.l4_mfn, 4u32)];
            while let Some((mfn, lvl)) = stack.pop() {
                out.insert(mfn, lvl);
                if lvl > 1 {
                    for &e in &self.frames[&mfn] {
                        if e & pte::PRESENT != 0 {
                            stack.push((entry_mfn(e), lvl - 1));
                        }
                    }
                }
            }
            out
        }

        fn leaf(&self, va: u64) -> Option<u64> {
            let mut t = self.l4_mfn;
            for level in (1..=4).rev() {
                let e = self.frames[&t][index(level, va)];
                if e & pte::PRESENT == 0 {
                    return None;
                }
                if level == 1 {
                    return Some(e);
                }
                t = entry_mfn(e);
            }
            None
        }

        fn writable_mappings_of(&self, mfn: u64) -> usize {
            let levels = self.levels();
            levels
                .iter()
                .filter(|(_, &l)| l == 1)
                .flat_map(|(t, _)| self.frames[t].iter())
                .filter(|&&e| e & pte::PRESENT != 0 && e & pte::RW != 0 && entry_mfn(e) == mfn)
                .count()
        }
    }

    impl PtEnv for Model {
        fn pfn_to_mfn(&self, pfn: u64) -> u64 {
            self.p2m[pfn as usize]
        }
        fn mfn_to_pfn(&self, mfn: u64) -> u64 {
            self.m2p[&mfn]
        }
        fn read_entry(&self, table_pfn: u64, index: usize) -> u64 {
            let va = table_pfn << PAGE_SHIFT;
            assert!(
                self.leaf(va).is_some(),
                "reading a table that is not mapped"
            );
            self.frames[&self.p2m[table_pfn as usize]][index]
        }
        fn zero_page(&mut self, pfn: u64) {
            let e = self
                .leaf(pfn << PAGE_SHIFT)
                .expect("zeroing an unmapped page");
            assert!(e & pte::RW != 0, "zeroing a read-only page");
            self.frames.insert(
                self.p2m[pfn as usize],
                vec![0xdead; 512].iter().map(|_| 0).collect(),
            );
        }
        fn mmu_update(&mut self, reqs: &[MmuUpdate]) -> Result<(), i64> {
            self.hypercalls += 1;
            for r in reqs {
                self.updates += 1;
                assert_eq!(r.ptr & 3, MMU_NORMAL_PT_UPDATE);
                let table = r.ptr >> PAGE_SHIFT;
                let idx = ((r.ptr & 0xfff) / 8) as usize;
                let levels = self.levels();
                let Some(&lvl) = levels.get(&table) else {
                    return Err(-22); // not a page table in use
                };
                let target = entry_mfn(r.val);
                if r.val & pte::PRESENT != 0 {
                    if lvl == 1 {
                        if r.val & pte::RW != 0 && levels.contains_key(&target) {
                            return Err(-22); // writable mapping of a table
                        }
                    } else {
                        // Linking a table: it must not be mapped writable anywhere, and must
                        // be a valid (here: empty) table.
                        if self.writable_mappings_of(target) > 0 {
                            return Err(-22);
                        }
                        if self.frames.get(&target).map(|f| f.iter().any(|&e| e != 0))
                            != Some(false)
                        {
                            return Err(-22);
                        }
                    }
                }
                self.frames.get_mut(&table).unwrap()[idx] = r.val;
            }
            Ok(())
        }
    }

    #[test]
    fn index_arithmetic() {
        let va = (3u64 << 39) | (5 << 30) | (7 << 21) | (9 << 12) | 0x123;
        assert_eq!(index(4, va), 3);
        assert_eq!(index(3, va), 5);
        assert_eq!(index(2, va), 7);
        assert_eq!(index(1, va), 9);
        assert_eq!(
            entry_mfn(make_entry(0xabcde, pte::L1_PROT | pte::NX)),
            0xabcde
        );
        assert_eq!(entry_maddr(0x10, 3), 0x10018);
    }

    #[test]
    fn maps_the_rest_of_memory_following_the_pv_rules() {
        // 8 MiB guest, first 4 MiB mapped, bootstrap tables at PFN 200..206.
        let mut m = Model::new(2048, 1024, 200);
        let first_free = 200 + 3 + 2 + 1;
        let (added, made, next) = {
            let mut mp = Mapper::new(&mut m, 200, first_free, 1024);
            let added = mp.map_identity(0, 2048).unwrap();
            (added, mp.tables_made(), mp.next_free_pfn())
        };
        assert_eq!(added, 1024);
        assert_eq!(made, 2); // two L1 tables for 4..8 MiB
        assert_eq!(next, first_free + 2);
        for pfn in 0..2048u64 {
            let e = m
                .leaf(pfn << 12)
                .unwrap_or_else(|| panic!("pfn {pfn} unmapped"));
            assert_eq!(entry_mfn(e), m.p2m[pfn as usize]);
            let is_table = m.levels().contains_key(&m.p2m[pfn as usize]);
            assert_eq!(e & pte::RW == 0, is_table, "pfn {pfn}");
        }
        // Leaf updates were batched.
        assert!(m.hypercalls < 30, "{} hypercalls", m.hypercalls);
    }

    #[test]
    fn creates_upper_levels_too() {
        // 1.5 GiB of PFNs: needs a second L2 (slot 1 of the L3).
        let mut m = Model::new(1 << 18 | 1 << 17, 1024, 300);
        let mut mp = Mapper::new(&mut m, 300, 306, 1024);
        let va = 1u64 << 30 | 0x5000;
        mp.map(va, 0x77, pte::L1_PROT).unwrap();
        mp.flush().unwrap();
        assert_eq!(mp.tables_made(), 2); // L2 + L1
        assert_eq!(mp.lookup(va), Some(make_entry(0x77, pte::L1_PROT)));
        assert_eq!(mp.lookup(va + 0x1000), None);
    }

    #[test]
    fn running_out_of_table_frames_is_an_error() {
        let mut m = Model::new(4096, 1024, 200);
        let mut mp = Mapper::new(&mut m, 200, 206, 207);
        assert_eq!(mp.map_identity(0, 4096), Err(MapError::NoTableFrame));
    }
}
