//! What dom0 and the guest agree on for the fast path, in plain Rust (`no_std`, no arch code): the
//! Xenstore nodes under the vif's backend directory, and the layout of the *ref page*, the one
//! granted page that lists the grant references of the ring pages.
//!
//! ```text
//! <backend>/feature-clickos-fast        "1"
//! <backend>/clickos-fast/ref            grant reference of the ref page
//! <backend>/clickos-fast/event-channel  an unbound port dom0 allocated for the guest
//! <backend>/clickos-fast/ring-geometry  "NSLOTS BUF_SIZE" (the same values are in the ref page)
//! ```
//!
//! Ref page (little-endian `u32` words):
//!
//! ```text
//! word 0   MAGIC ("CKFP")
//! word 1   VERSION
//! word 2   nslots              of each ring (a power of two)
//! word 3   buf_size            bytes per buffer
//! word 4   pages               per ring region
//! word 5   alive               1 while dom0's backend holds the pages; gntalloc's unmap
//!                              notification clears its first byte when the backend goes away
//! word 6 .. 6+pages            refs of the "to guest" ring region   (dom0 produces)
//! word 6+pages .. 6+2*pages    refs of the "from guest" ring region (the guest produces)
//! ```
//!
//! Each region is a [`vale::ring`](../../vale/ring/index.html) ring, formatted by dom0 before the
//! grants are published. The guest checks everything here against its own limits before mapping:
//! dom0 is trusted, but a guest must not fault on a wrong value either.

/// Node under the backend directory announcing the fast path.
pub const FEATURE_NODE: &str = "feature-clickos-fast";
/// Directory under the backend directory holding the fast path's nodes.
pub const DIR: &str = "clickos-fast";
pub const REF_NODE: &str = "clickos-fast/ref";
pub const EVTCHN_NODE: &str = "clickos-fast/event-channel";
pub const GEOMETRY_NODE: &str = "clickos-fast/ring-geometry";

pub const MAGIC: u32 = u32::from_le_bytes(*b"CKFP");
pub const VERSION: u32 = 1;
pub const PAGE_SIZE: usize = 4096;
/// Byte offset of the `alive` word (the unmap notification clears the byte there).
pub const ALIVE_OFFSET: usize = 20;
const HEADER_WORDS: usize = 6;
/// Most pages a ring region may have so that both lists fit the ref page.
pub const MAX_PAGES_PER_RING: usize = (PAGE_SIZE / 4 - HEADER_WORDS) / 2;

/// The ref page's contents, decoded and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefPage<'a> {
    pub nslots: u32,
    pub buf_size: u32,
    pub pages: usize,
    words: &'a [u32],
}

/// Why a ref page was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefPageError {
    BadMagic,
    BadVersion(u32),
    /// nslots not a power of two ≥ 2, or buf_size out of 64..=65535.
    BadGeometry,
    /// The page count is zero, over [`MAX_PAGES_PER_RING`], over the caller's limit, or too
    /// small for the geometry.
    BadPageCount(u32),
}

/// Bytes a ring region of this geometry needs (the same arithmetic as `vale::ring::Geometry`,
/// repeated here so the guest can check before touching the ring code).
pub fn region_bytes(nslots: u32, buf_size: u32) -> usize {
    let slots = (64 + nslots as usize * 4).next_multiple_of(PAGE_SIZE);
    (slots + nslots as usize * buf_size as usize).next_multiple_of(PAGE_SIZE)
}

impl<'a> RefPage<'a> {
    /// Decodes a ref page (1024 words). `max_pages` is the caller's limit on pages per ring
    /// (what it is willing to map).
    pub fn parse(words: &'a [u32; PAGE_SIZE / 4], max_pages: usize) -> Result<Self, RefPageError> {
        let w = |k: usize| u32::from_le(words[k]);
        if w(0) != MAGIC {
            return Err(RefPageError::BadMagic);
        }
        if w(1) != VERSION {
            return Err(RefPageError::BadVersion(w(1)));
        }
        let (nslots, buf_size, pages) = (w(2), w(3), w(4));
        if !nslots.is_power_of_two() || nslots < 2 || !(64..=65535).contains(&buf_size) {
            return Err(RefPageError::BadGeometry);
        }
        let p = pages as usize;
        if p == 0
            || p > MAX_PAGES_PER_RING
            || p > max_pages
            || p * PAGE_SIZE < region_bytes(nslots, buf_size)
        {
            return Err(RefPageError::BadPageCount(pages));
        }
        Ok(RefPage {
            nslots,
            buf_size,
            pages: p,
            words: &words[..],
        })
    }

    /// Grant reference of page `k` of the "to guest" region.
    pub fn to_guest_ref(&self, k: usize) -> u32 {
        u32::from_le(self.words[HEADER_WORDS + k.min(self.pages - 1)])
    }

    /// Grant reference of page `k` of the "from guest" region.
    pub fn from_guest_ref(&self, k: usize) -> u32 {
        u32::from_le(self.words[HEADER_WORDS + self.pages + k.min(self.pages - 1)])
    }

    /// Whether dom0's backend still holds the pages (see [`ALIVE_OFFSET`]).
    pub fn alive(words: &[u32; PAGE_SIZE / 4]) -> bool {
        u32::from_le(words[ALIVE_OFFSET / 4]) & 0xff != 0
    }
}

/// Fills a ref page (dom0). `to_guest` and `from_guest` are the refs of the two regions, of
/// equal length ≤ [`MAX_PAGES_PER_RING`].
pub fn write_ref_page(
    words: &mut [u32; PAGE_SIZE / 4],
    nslots: u32,
    buf_size: u32,
    to_guest: &[u32],
    from_guest: &[u32],
) {
    assert_eq!(to_guest.len(), from_guest.len());
    assert!(to_guest.len() <= MAX_PAGES_PER_RING);
    words.fill(0);
    words[0] = MAGIC.to_le();
    words[1] = VERSION.to_le();
    words[2] = nslots.to_le();
    words[3] = buf_size.to_le();
    words[4] = (to_guest.len() as u32).to_le();
    words[5] = 1u32.to_le();
    let p = to_guest.len();
    for (k, r) in to_guest.iter().enumerate() {
        words[HEADER_WORDS + k] = r.to_le();
    }
    for (k, r) in from_guest.iter().enumerate() {
        words[HEADER_WORDS + p + k] = r.to_le();
    }
}

/// Parses `ring-geometry` ("NSLOTS BUF_SIZE").
pub fn parse_geometry(s: &str) -> Option<(u32, u32)> {
    let mut it = s.split_ascii_whitespace();
    let n = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    it.next().is_none().then_some((n, b))
}

/// Parses a decimal Xenstore value (grant reference, port), surrounding whitespace allowed.
pub fn parse_u32(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> [u32; 1024] {
        [0; 1024]
    }

    #[test]
    fn round_trip() {
        let mut p = page();
        let pages = region_bytes(64, 2048) / PAGE_SIZE;
        assert_eq!(pages, 33);
        let a: std::vec::Vec<u32> = (100..100 + pages as u32).collect();
        let b: std::vec::Vec<u32> = (500..500 + pages as u32).collect();
        write_ref_page(&mut p, 64, 2048, &a, &b);
        let r = RefPage::parse(&p, 64).unwrap();
        assert_eq!((r.nslots, r.buf_size, r.pages), (64, 2048, 33));
        assert_eq!(r.to_guest_ref(0), 100);
        assert_eq!(r.to_guest_ref(32), 132);
        assert_eq!(r.from_guest_ref(0), 500);
        assert_eq!(r.from_guest_ref(32), 532);
        assert!(RefPage::alive(&p));
        p[ALIVE_OFFSET / 4] &= !0xff;
        assert!(!RefPage::alive(&p));
    }

    #[test]
    fn garbage_is_refused() {
        let mut p = page();
        assert_eq!(RefPage::parse(&p, 64), Err(RefPageError::BadMagic));
        write_ref_page(&mut p, 64, 2048, &[1; 33], &[2; 33]);
        let good = p;
        p[1] = 7;
        assert_eq!(RefPage::parse(&p, 64), Err(RefPageError::BadVersion(7)));
        p = good;
        p[2] = 63;
        assert_eq!(RefPage::parse(&p, 64), Err(RefPageError::BadGeometry));
        p = good;
        p[3] = 70000;
        assert_eq!(RefPage::parse(&p, 64), Err(RefPageError::BadGeometry));
        p = good;
        p[4] = 32; // too small for 64 × 2048
        assert_eq!(RefPage::parse(&p, 64), Err(RefPageError::BadPageCount(32)));
        p = good;
        p[4] = 5000;
        assert_eq!(
            RefPage::parse(&p, 10_000),
            Err(RefPageError::BadPageCount(5000))
        );
        p = good;
        assert_eq!(RefPage::parse(&p, 16), Err(RefPageError::BadPageCount(33)));
        assert!(RefPage::parse(&good, 33).is_ok());
    }

    #[test]
    fn geometry_text() {
        assert_eq!(parse_geometry("64 2048"), Some((64, 2048)));
        assert_eq!(parse_geometry(" 64  2048 "), Some((64, 2048)));
        assert_eq!(parse_geometry("64"), None);
        assert_eq!(parse_geometry("64 2048 1"), None);
        assert_eq!(parse_geometry("x 2048"), None);
        assert_eq!(parse_u32(" 17\n"), Some(17));
    }
}
