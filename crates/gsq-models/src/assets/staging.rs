//! A private folder next to the cache entries, where downloads and extractions happen before
//! an atomic rename puts the result in place. Removed when dropped, so failed runs leave no
//! half-written assets behind; named per process, so concurrent fetches do not collide.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::FetchError;

pub struct StagingDir {
    path: PathBuf,
}

impl StagingDir {
    pub fn new(cache_dir: &Path, tag: &str) -> Result<Self, FetchError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = cache_dir.join(format!(".staging-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(FetchError::io("creating a staging folder", &path))?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        // Best effort: a leftover staging folder is harmless and ignored by later runs.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Moves `from` (a file or folder inside a staging folder) to `to`, replacing what is there.
/// A folder already at `to` is first moved aside into `staging` (rename cannot replace a
/// non-empty folder) and dropped with it.
pub fn install(from: &Path, to: &Path, staging: &StagingDir) -> Result<(), FetchError> {
    let step = "installing the extracted asset";
    if to.is_dir() {
        let aside = staging.path().join("replaced");
        std::fs::rename(to, &aside).map_err(FetchError::io(step, to))?;
    }
    std::fs::rename(from, to).map_err(FetchError::io(step, to))
}
