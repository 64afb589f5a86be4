//! Downloading a package archive with the registry's ordinary client (pip or npm).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::catalog::{Client, Package};
use super::error::FetchError;
use super::sha256::file_sha256;

/// Lines of a failed client's output quoted in the error.
const OUTPUT_TAIL_LINES: usize = 30;

fn command(package: &Package, dir: &Path) -> Command {
    match package.client {
        Client::PipWheel | Client::PipSdist => {
            let binary_flag = if package.client == Client::PipWheel {
                "--only-binary"
            } else {
                "--no-binary"
            };
            let mut c = Command::new("python3");
            c.args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                binary_flag,
                ":all:",
                "-d",
            ])
            .arg(dir)
            .arg(package.spec)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
            c
        }
        Client::Npm => {
            let mut c = Command::new("npm");
            c.args(["pack", package.spec]).current_dir(dir);
            c
        }
    }
}

fn describe(c: &Command) -> String {
    let args: Vec<String> = c
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{} {}", c.get_program().to_string_lossy(), args.join(" "))
}

fn output_tail(output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(OUTPUT_TAIL_LINES)..].join("\n")
}

/// Downloads `package` into `dir` and checks the archive's sha256; returns the archive's path.
pub fn download(package: &Package, dir: &Path) -> Result<PathBuf, FetchError> {
    let step = format!("downloading {}", package.spec);
    let mut cmd = command(package, dir);
    let output = cmd.output().map_err(|source| FetchError::ClientMissing {
        step: step.clone(),
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    if !output.status.success() {
        return Err(FetchError::ClientFailed {
            step,
            command: describe(&cmd),
            status: output.status.to_string(),
            output: output_tail(&output),
        });
    }
    let archive = dir.join(package.archive_name);
    if !archive.is_file() {
        let found = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        return Err(FetchError::ArchiveMissing {
            step,
            expected: package.archive_name.to_string(),
            dir: dir.to_path_buf(),
            found,
        });
    }
    let actual = file_sha256(&archive).map_err(FetchError::io(&step, &archive))?;
    if actual != package.archive_sha256 {
        return Err(FetchError::HashMismatch {
            step: format!("checking the archive of {}", package.spec),
            path: archive,
            expected: package.archive_sha256.to_string(),
            actual,
        });
    }
    Ok(archive)
}
