use clap::Parser;
use gsq_cli::args::{Cli, Command};
use gsq_cli::commands;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Finetune(a) => commands::finetune(&a),
        Command::Eval(a) => commands::eval(&a),
        Command::Fetch(a) => commands::fetch(&a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
