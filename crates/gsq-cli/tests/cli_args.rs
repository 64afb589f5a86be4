//! `gsq` argument parsing.

use clap::Parser;
use gsq_cli::args::{BackendKind, Cli, Command, Format};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("gsq").chain(args.iter().copied()))
}

#[test]
fn finetune_defaults_run_gsq_and_flex_side_by_side() {
    let Command::Finetune(a) = parse(&["finetune"]).unwrap().command else {
        panic!("not finetune")
    };
    assert_eq!(a.backend, vec![BackendKind::Gsq, BackendKind::Flex]);
    assert_eq!(a.model.format, Format::Int8);
    assert_eq!(a.model.base_format, Format::Int8);
    assert_eq!(a.targets, vec!["q_proj", "v_proj"]);
    assert_eq!((a.rank, a.steps, a.batch, a.model.seq_len), (8, 24, 4, 64));
    assert!(a.model.model.is_none() && a.model.text.is_none());
}

#[test]
fn finetune_options_parse() {
    let cli = parse(&[
        "finetune",
        "--backend",
        "ndarray",
        "--format",
        "int5",
        "--base-format",
        "int4",
        "--rank",
        "4",
        "--alpha",
        "8",
        "--targets",
        "q_proj,k_proj,down_proj",
        "--steps",
        "3",
        "--seq-len",
        "32",
        "--batch",
        "2",
        "--lr",
        "0.01",
        "--seed",
        "7",
        "--out",
        "/tmp/x",
    ])
    .unwrap();
    let Command::Finetune(a) = cli.command else {
        panic!("not finetune")
    };
    assert_eq!(a.backend, vec![BackendKind::Ndarray]);
    assert_eq!(a.model.format.gse(), gse::GseFormat::INT5);
    assert_eq!(a.model.base_format.gse(), gse::GseFormat::INT4);
    assert_eq!(a.targets, vec!["q_proj", "k_proj", "down_proj"]);
    assert_eq!(
        (a.rank, a.steps, a.batch, a.model.seq_len, a.model.seed),
        (4, 3, 2, 32, 7)
    );
    assert_eq!(a.alpha, 8.0);
    assert_eq!(a.lr, 0.01);
    assert_eq!(a.out, std::path::PathBuf::from("/tmp/x"));
}

#[test]
fn eval_and_fetch_parse_and_bad_values_are_refused() {
    let Command::Eval(e) = parse(&[
        "eval",
        "--backend",
        "flex",
        "--adapter",
        "runs/a.gse",
        "--temperature",
        "0.8",
    ])
    .unwrap()
    .command
    else {
        panic!("not eval")
    };
    assert_eq!(e.backend, BackendKind::Flex);
    assert_eq!(e.adapter.unwrap(), std::path::PathBuf::from("runs/a.gse"));
    assert!(matches!(
        parse(&["fetch"]).unwrap().command,
        Command::Fetch(_)
    ));
    assert!(parse(&["finetune", "--format", "int3"]).is_err());
    assert!(parse(&["finetune", "--backend", "cuda"]).is_err());
    assert!(parse(&["finetune", "--steps", "-1"]).is_err());
    assert!(parse(&[]).is_err());
}

#[test]
fn group_size_sets_the_linear_operand_groups_and_refuses_non_powers_of_two() {
    let Command::Eval(e) = parse(&["eval", "--format", "int6", "--group", "16"])
        .unwrap()
        .command
    else {
        panic!("not eval")
    };
    let operand = e.model.format.gse_grouped(e.model.group).unwrap();
    assert_eq!((operand.mantissa_bits(), operand.group_size()), (6, 16));
    let Command::Finetune(f) = parse(&["finetune"]).unwrap().command else {
        panic!("not finetune")
    };
    assert_eq!(
        f.model.format.gse_grouped(f.model.group).unwrap(),
        gse::GseFormat::INT8
    );
    for bad in ["0", "1", "12", "512", "-4", "x"] {
        assert!(parse(&["eval", "--group", bad]).is_err(), "--group {bad}");
    }
}
