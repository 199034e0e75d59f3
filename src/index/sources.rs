//! Each row's source (the address the client sent its document from), front-coded. PURE.
//!
//! Sources are long (50 to 150 bytes) and those stored one after another mostly share their
//! beginning (the same site, the same section of it). So they are kept in blocks of
//! [`BLOCK`]: a block's first source whole, each of the others as the length it shares with
//! the one before and the bytes that follow. Reading one source decodes its block up to it,
//! at most [`BLOCK`] − 1 steps; only summaries and snapshots read them.

/// Sources a block: each block starts with one kept whole.
const BLOCK: usize = 16;

/// Past this many bytes in all (4 GiB, far past any planned size), a source is kept empty:
/// a snapshot gives each its offset in a `u32`.
const MAX_TOTAL: u64 = u32::MAX as u64;

#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Every block, one after another: per source the bytes it shares with the one before
    /// (a varint; none for a block's first), its own length (a varint), its own bytes.
    bytes: Vec<u8>,
    /// Where each block starts in `bytes`.
    starts: Vec<usize>,
    /// How many sources it holds.
    len: usize,
    /// The bytes of every source, as a snapshot lays them end to end.
    total: u64,
    /// The last source pushed.
    last: String,
}

impl Sources {
    /// Adds the next row's source; an empty one once [`MAX_TOTAL`] bytes are held.
    pub fn push(&mut self, source: &str) {
        let source = if self.total + source.len() as u64 > MAX_TOTAL {
            ""
        } else {
            source
        };
        self.total += source.len() as u64;
        let shared = if self.len % BLOCK == 0 {
            self.starts.push(self.bytes.len());
            0
        } else {
            let shared = common_prefix(&self.last, source);
            put_varint(&mut self.bytes, shared);
            shared
        };
        let own = &source.as_bytes()[shared..];
        put_varint(&mut self.bytes, own.len());
        self.bytes.extend_from_slice(own);
        self.last.clear();
        self.last.push_str(source);
        self.len += 1;
    }

    /// Row `i`'s source.
    pub fn get(&self, i: usize) -> String {
        let mut walk = Walk {
            sources: self,
            at: self.starts[i / BLOCK],
            next: i / BLOCK * BLOCK,
            current: Vec::new(),
        };
        for _ in i / BLOCK * BLOCK..i {
            walk.step();
        }
        walk.next_source().to_owned()
    }

    /// Every source in row order.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            sources: self,
            at: 0,
            next: 0,
            current: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.starts.capacity() * std::mem::size_of::<usize>()
            + self.last.capacity()
    }
}

/// The sources one after another (see [`Sources::walk`]).
pub struct Walk<'a> {
    sources: &'a Sources,
    /// Where the next source's entry starts in `bytes`.
    at: usize,
    /// The row of the next source.
    next: usize,
    /// The source decoded last.
    current: Vec<u8>,
}

impl Walk<'_> {
    /// Decodes the next source into `current`.
    fn step(&mut self) {
        let bytes = &self.sources.bytes;
        let shared = if self.next % BLOCK == 0 {
            0
        } else {
            get_varint(bytes, &mut self.at)
        };
        let own = get_varint(bytes, &mut self.at);
        self.current.truncate(shared);
        self.current
            .extend_from_slice(&bytes[self.at..self.at + own]);
        self.at += own;
        self.next += 1;
    }

    /// The next source. Call no more often than [`Sources::len`].
    pub fn next_source(&mut self) -> &str {
        self.step();
        // Every entry was cut from a `str` at a length it shares with the one before, so
        // what it rebuilds is that `str`.
        std::str::from_utf8(&self.current).expect("sources are rebuilt whole")
    }
}

/// How many leading bytes `a` and `b` share.
fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// `v` in LEB128: seven bits a byte, the high bit set on all but the last.
fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> usize {
    let mut v = 0usize;
    let mut shift = 0;
    loop {
        let b = bytes[*at];
        *at += 1;
        v |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}
