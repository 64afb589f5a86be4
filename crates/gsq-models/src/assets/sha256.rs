//! sha256 of files, of bytes as they stream past, and of an extracted tree of files.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 of a file's contents, as lowercase hex.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the hex digest and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One file of a tree: its path relative to the tree's root (`/`-separated) and its sha256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TreeEntry {
    pub relative_path: String,
    pub sha256: String,
}

/// The sha256 of the listing `"<relative path> <sha256 hex>\n"`, sorted by path: one hash that
/// pins every file's name and content (`sha256sum`'s format with a single space).
pub fn tree_digest(entries: &[TreeEntry]) -> String {
    let mut sorted = entries.to_vec();
    sorted.sort();
    let mut hasher = Sha256::new();
    for e in &sorted {
        hasher.update(format!("{} {}\n", e.relative_path, e.sha256).as_bytes());
    }
    hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"abc").unwrap();
        let (out, digest, n) = w.finish();
        assert_eq!(out, b"abc");
        assert_eq!(n, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let a = TreeEntry {
            relative_path: "b".into(),
            sha256: "1".into(),
        };
        let b = TreeEntry {
            relative_path: "a".into(),
            sha256: "2".into(),
        };
        assert_eq!(
            tree_digest(&[a.clone(), b.clone()]),
            tree_digest(&[b, a]),
            "order-independent"
        );
    }
}
