//! Downloads the pinned model and corpora into the asset cache (see `gsq_models::assets`).

use std::process::ExitCode;

use gsq_models::assets::{Action, cache_dir, fetch_all};

fn main() -> ExitCode {
    let dir = cache_dir();
    println!("asset cache: {}", dir.display());
    match fetch_all(&dir) {
        Ok(assets) => {
            for o in &assets.outcomes {
                let did = match o.action {
                    Action::AlreadyPresent => "already present",
                    Action::Fetched { replaced: false } => "fetched",
                    Action::Fetched { replaced: true } => "fetched (replaced a bad copy)",
                };
                println!("{did:>30}: {} -> {}", o.what, o.path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gsq-fetch: {e}");
            ExitCode::FAILURE
        }
    }
}
