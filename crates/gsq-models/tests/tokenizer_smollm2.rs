//! The SmolLM2 tokenizer built from the real GGUF file, against Hugging Face `tokenizers`.
//!
//! The expected ids and hashes were produced once by tests/reference/hf_tokenizer.py (HF
//! `tokenizers` 0.22 built from the same GGUF vocabulary and merges with SmolLM2's
//! pre-tokenizer); CI does not need Python. The corpora come from scripts/fetch-assets.sh and
//! these tests fail, never skip, when they are missing.

mod common;

use gsq_models::tokenizer::{PreKind, TokenType, Tokenizer};

fn tokenizer() -> Tokenizer {
    Tokenizer::from_gguf(common::smollm2()).unwrap()
}

#[test]
fn vocabulary_facts() {
    let t = tokenizer();
    assert_eq!(t.vocab_size(), 49152);
    assert_eq!(t.bos_id(), 1);
    assert_eq!(t.eos_id(), 2);
    assert_eq!(t.token_text(1), Some("<|im_start|>"));
    assert_eq!(t.token_text(2), Some("<|im_end|>"));
    assert_eq!(t.token_type(0), Some(TokenType::Control));
    assert_eq!(t.token_type(17), Some(TokenType::Normal));
    assert_eq!(t.pre_tokenizer(), PreKind::SmolLm);
}

/// Ids from Hugging Face `tokenizers` (see the module comment).
const KNOWN: [(&str, &[u32]); 8] = [
    ("Call me Ishmael.", &[12800, 549, 46588, 30]),
    (
        "Hello world's  end, 2024!\n\n",
        &[
            19556, 905, 506, 216, 1112, 28, 216, 34, 32, 34, 36, 17, 1116,
        ],
    ),
    (
        "“Ahoy—there,” he said; it's 3.14 o'clock…",
        &[
            1585, 23921, 922, 1265, 11527, 1447, 384, 1137, 43, 357, 506, 216, 35, 30, 33, 36, 263,
            23, 17466, 2829,
        ],
    ),
    ("<|im_start|>user\nHi<|im_end|>", &[1, 4093, 198, 26843, 2]),
    ("   leading and trailing   ", &[256, 2899, 284, 35079, 333]),
    (
        "naïve café ünïcödé 日本語 🐳",
        &[
            3546, 46494, 37366, 5549, 137, 94, 25972, 83, 7466, 84, 2756, 17097, 241, 115, 40993,
            179, 120, 248, 15107, 234, 128,
        ],
    ),
    // Bytes without a token (0x04; 0xF1, the lead byte of U+40000) are dropped.
    ("a\u{4}b", &[81, 82]),
    ("x\u{40000}y", &[104, 218, 218, 218, 105]),
];

#[test]
fn known_sequences_match_hugging_face() {
    let t = tokenizer();
    for (text, ids) in KNOWN {
        assert_eq!(t.encode(text), ids, "{text:?}");
        let dropped = text.bytes().any(|b| t.bytes_without_token().contains(&b));
        assert_eq!(t.decode(ids) == text, !dropped, "{text:?}");
    }
    assert_eq!(t.bytes_without_token().len(), 21);
}

/// Checks that need no reference: a word that is itself a vocabulary entry is one token, and a
/// digit run splits into one token per digit.
#[test]
fn ids_derived_from_the_vocabulary() {
    let t = tokenizer();
    for word in ["the", "whale", "Ishmael", "harpoon", "Hamlet"] {
        let spaced = format!("Ġ{word}");
        if let Some(id) = t.token_id(&spaced) {
            assert_eq!(t.encode(&format!(" {word}")), [id], "{word}");
        }
        if let Some(id) = t.token_id(word) {
            assert_eq!(t.encode(word), [id], "{word}");
        }
    }
    let digit = |d: char| t.token_id(&d.to_string()).unwrap();
    assert_eq!(t.encode("1851"), ['1', '8', '5', '1'].map(digit));
    let space = t.token_id("Ġ").unwrap();
    assert_eq!(
        t.encode(" 7"),
        [space, digit('7')],
        "the space is not merged into a digit"
    );
    assert!(
        t.encode_ordinary("<|im_end|>").len() > 1,
        "ordinary text does not match control tokens"
    );
}

/// First 200,000 characters of Moby Dick: token count and FNV-1a hash of the ids from HF.
#[test]
fn moby_dick_prefix_matches_hugging_face() {
    let t = tokenizer();
    let text = common::moby_dick();
    let ids = t.encode(common::prefix_chars(&text, 200_000));
    assert_eq!(ids.len(), 52_793);
    assert_eq!(common::fnv1a64(&ids), 0xb38f_e6bb_8170_a9a3);
}

#[test]
fn hamlet_matches_hugging_face() {
    let t = tokenizer();
    let plays = common::shakespeare();
    let (_, hamlet) = plays
        .iter()
        .find(|(name, _)| name == "tragedies/hamlet.md")
        .expect("hamlet is among the plays");
    let ids = t.encode(hamlet);
    assert_eq!(ids.len(), 61_105);
    assert_eq!(common::fnv1a64(&ids), 0xdeba_5d5d_b35a_f1e0);
}

/// decode(encode(text)) == text over the whole of Moby Dick (curly quotes, em dashes, digits,
/// newlines) and the first play of each of the six categories.
#[test]
fn decoding_inverts_encoding_on_real_text() {
    let t = tokenizer();
    let moby = common::moby_dick();
    assert!(moby.contains('’') && moby.contains('—') && moby.contains('“'));
    let ids = t.encode(&moby);
    assert_eq!(t.decode(&ids), moby);
    // Over 3.8 bytes per token on English prose.
    assert!(ids.len() * 38 < moby.len() * 10, "{} tokens", ids.len());
    let plays = common::shakespeare();
    assert_eq!(plays.len(), 38);
    let mut categories = std::collections::BTreeSet::new();
    for (name, text) in &plays {
        let category = name.split('/').next().unwrap_or_default();
        if categories.insert(category) {
            assert_eq!(t.decode(&t.encode(text)), *text, "{name}");
        }
    }
    assert_eq!(categories.len(), 6);
}

#[test]
fn decode_is_lossy_not_panicking_on_bad_ids() {
    let t = tokenizer();
    assert_eq!(t.decode(&[u32::MAX]), "\u{FFFD}");
    // A lone continuation byte of a multi-byte character.
    let whale = t.encode("🐳");
    assert!(whale.len() > 1);
    assert_eq!(t.decode(&whale[1..2]), "\u{FFFD}");
}
