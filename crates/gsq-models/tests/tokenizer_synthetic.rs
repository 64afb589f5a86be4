//! Tokenizers built from small GGUF vocabularies written by the test: merge order, control
//! tokens, the two pre-tokenizers, and every way the metadata can be wrong.

use gsq_models::gguf::{Array, Gguf, GgufError, Value, ValueType};
use gsq_models::tokenizer::byte_level::ByteLevel;
use gsq_models::tokenizer::{Tokenizer, TokenizerError};
use gsq_models::writer::GgufWriter;

const EXTRA: [&str; 5] = ["<|ctl|>", "th", "the", "Ġthe", "20"];
const MERGES: [&str; 4] = ["t h", "th e", "Ġ the", "2 0"];

fn strings(items: &[&str]) -> Value {
    Value::Array(Array {
        elem_type: ValueType::String,
        items: items.iter().map(|s| Value::String(s.to_string())).collect(),
    })
}

/// The 256 byte tokens (in byte order) followed by [`EXTRA`].
fn tokens() -> Vec<String> {
    let bl = ByteLevel::new();
    (0..=255u8)
        .map(|b| bl.char_of(b).to_string())
        .chain(EXTRA.iter().map(|s| s.to_string()))
        .collect()
}

fn id(token: &str) -> u32 {
    tokens().iter().position(|t| t == token).unwrap() as u32
}

/// A valid tokenizer description; `edit` may replace or drop keys before writing.
fn gguf_with(edit: impl FnOnce(&mut Vec<(&'static str, Value)>)) -> Gguf {
    let tokens = tokens();
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let types = tokens
        .iter()
        .map(|t| Value::I32(if t == "<|ctl|>" { 3 } else { 1 }))
        .collect();
    let mut keys: Vec<(&'static str, Value)> = vec![
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", strings(&token_refs)),
        (
            "tokenizer.ggml.token_type",
            Value::Array(Array {
                elem_type: ValueType::I32,
                items: types,
            }),
        ),
        ("tokenizer.ggml.merges", strings(&MERGES)),
        ("tokenizer.ggml.bos_token_id", Value::U32(256)),
        ("tokenizer.ggml.eos_token_id", Value::U32(256)),
    ];
    edit(&mut keys);
    let mut w = GgufWriter::new();
    for (k, v) in keys {
        w.metadata(k, v);
    }
    Gguf::from_bytes(w.to_bytes()).unwrap()
}

fn set(keys: &mut [(&'static str, Value)], key: &str, value: Value) {
    keys.iter_mut().find(|(k, _)| *k == key).unwrap().1 = value;
}

fn build(edit: impl FnOnce(&mut Vec<(&'static str, Value)>)) -> Result<Tokenizer, TokenizerError> {
    Tokenizer::from_gguf(&gguf_with(edit))
}

#[test]
fn merges_control_tokens_and_digits() {
    let t = build(|_| {}).unwrap();
    assert_eq!(t.vocab_size(), 261);
    assert_eq!((t.bos_id(), t.eos_id()), (256, 256));
    assert_eq!(t.encode("the the"), [id("the"), id("Ġthe")]);
    assert_eq!(t.encode("thethe"), [id("the"), id("the")]);
    assert_eq!(t.encode("<|ctl|>the"), [256, id("the")]);
    assert_eq!(
        t.encode_ordinary("<|ctl|>").len(),
        7,
        "one token per character"
    );
    assert_eq!(
        t.encode("2024"),
        [id("2"), id("0"), id("2"), id("4")],
        "digits isolated"
    );
    assert_eq!(
        t.decode(&t.encode("<|ctl|>the 2024\n")),
        "<|ctl|>the 2024\n"
    );

    let gpt2 = build(|k| set(k, "tokenizer.ggml.pre", Value::String("gpt-2".into()))).unwrap();
    assert_eq!(
        gpt2.encode("2024"),
        [id("20"), id("2"), id("4")],
        "digits merge"
    );
}

#[test]
fn unsupported_models_and_pre_tokenizers() {
    let err = build(|k| set(k, "tokenizer.ggml.model", Value::String("llama".into()))).unwrap_err();
    assert!(
        matches!(&err, TokenizerError::UnsupportedModel(m) if m == "llama"),
        "{err}"
    );
    let err = build(|k| set(k, "tokenizer.ggml.pre", Value::String("qwen2".into()))).unwrap_err();
    assert!(err.to_string().contains("qwen2"), "{err}");
}

#[test]
fn missing_and_mistyped_keys_are_named() {
    let err = build(|k| k.retain(|(key, _)| *key != "tokenizer.ggml.merges")).unwrap_err();
    assert!(
        matches!(&err, TokenizerError::Metadata(GgufError::MissingKey { key }) if key == "tokenizer.ggml.merges"),
        "{err}"
    );
    let err = build(|k| set(k, "tokenizer.ggml.tokens", Value::U32(3))).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("tokenizer.ggml.tokens") && msg.contains("array of strings"),
        "{msg}"
    );
    let err = build(|k| set(k, "tokenizer.ggml.bos_token_id", Value::String("1".into())))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokenizer.ggml.bos_token_id"), "{err}");
}

#[test]
fn inconsistent_vocabularies_are_refused() {
    for (merge, needle) in [
        ("th", "two tokens"),
        ("t zz", "\"zz\" is not in the vocabulary"),
        ("h t", "\"ht\" is not in the vocabulary"),
    ] {
        let err = build(|k| set(k, "tokenizer.ggml.merges", strings(&["t h", merge])))
            .unwrap_err()
            .to_string();
        assert!(err.contains("merge #1") && err.contains(needle), "{err}");
    }
    let err = build(|k| set(k, "tokenizer.ggml.bos_token_id", Value::U32(9999))).unwrap_err();
    assert!(
        matches!(err, TokenizerError::SpecialIdOutOfRange { id: 9999, .. }),
        "{err}"
    );
    let err = build(|k| {
        set(
            k,
            "tokenizer.ggml.token_type",
            Value::Array(Array {
                elem_type: ValueType::I32,
                items: vec![Value::I32(1)],
            }),
        )
    })
    .unwrap_err();
    assert!(
        matches!(err, TokenizerError::TokenTypeCount { types: 1, .. }),
        "{err}"
    );
}
