//! The byte-level BPE tokenizer of a GGUF file (`tokenizer.ggml.model = gpt2`).
//!
//! Encoding: control and user-defined tokens (`<|im_start|>` ...) are matched literally first;
//! the text between them is pre-tokenized ([`pretokenize`]: SmolLM2 isolates digits, then
//! applies GPT-2's pattern), each piece is mapped to the byte-level alphabet ([`byte_level`])
//! and merged ([`bpe`]). Decoding maps tokens back to bytes.
//!
//! A byte without a token of its own is dropped, as Hugging Face's BPE (without an unknown
//! token) and llama.cpp do: SmolLM2's vocabulary lacks 21 bytes, the control characters
//! U+0004, U+0006, U+0013, U+0014, U+0016, U+001D and the bytes 0xC0, 0xC1, 0xF1, 0xF2,
//! 0xF5..=0xFF (never in UTF-8, or only for code points from U+40000 on). Text with those does
//! not round-trip; ordinary text does. This matches Hugging Face's
//! `tokenizers` built from the same vocabulary and merges (checked against it on the whole of
//! Moby Dick and the Shakespeare plays, see the tests).
//!
//! Why not the `tokenizers` crate: it is built from a `tokenizer.json`, not from GGUF metadata,
//! and brings a large dependency tree (serde, rayon, esaxx, onig or fancy-regex, ...). Byte-level
//! BPE itself is a priority queue over adjacent pairs; the one subtle part, the pre-tokenizer
//! pattern with its look-ahead, uses `fancy-regex`, the engine `tokenizers` itself uses without
//! Oniguruma.

pub mod bpe;
pub mod byte_level;
mod error;
pub mod pretokenize;
mod vocab;

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::gguf::Gguf;

use bpe::Merges;
use byte_level::ByteLevel;
pub use error::TokenizerError;
use pretokenize::PreTokenizer;
use vocab::Vocab;
pub use vocab::{PreKind, TokenType};

/// Token ids of the pieces already merged during one `encode` call.
type PieceCache<'t> = HashMap<&'t str, Vec<u32>>;

pub struct Tokenizer {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
    types: Vec<TokenType>,
    merges: Merges,
    byte_ids: [Option<u32>; 256],
    byte_level: ByteLevel,
    pre_tokenizer: PreTokenizer,
    pre: PreKind,
    /// Literal tokens (control, user-defined) and a matcher for them, longest match first.
    literals: Option<(AhoCorasick, Vec<u32>)>,
    bos: u32,
    eos: u32,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.tokens.len())
            .field("merges", &self.merges.len())
            .field("pre", &self.pre)
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .finish()
    }
}

impl Tokenizer {
    /// The tokenizer described by `gguf`'s `tokenizer.ggml.*` metadata.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self, TokenizerError> {
        let byte_level = ByteLevel::new();
        let vocab = Vocab::from_gguf(gguf, &byte_level)?;
        let pre_tokenizer = PreTokenizer::new(vocab.pre == PreKind::SmolLm)
            .map_err(|e| TokenizerError::Pattern(e.to_string()))?;
        let literals = literal_matcher(&vocab)?;
        Ok(Self {
            tokens: vocab.tokens,
            ids: vocab.ids,
            types: vocab.types,
            merges: vocab.merges,
            byte_ids: vocab.byte_ids,
            byte_level,
            pre_tokenizer,
            pre: vocab.pre,
            literals,
            bos: vocab.bos,
            eos: vocab.eos,
        })
    }

    /// Token ids of `text` (bytes without a token are dropped, see the module doc). Control tokens written in the text (`<|im_start|>`) become their
    /// ids, as in Hugging Face's and llama.cpp's default; no BOS is added (SmolLM2's
    /// `add_bos_token` is false).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3);
        let mut cache = PieceCache::new();
        let Some((matcher, ids)) = &self.literals else {
            self.encode_ordinary_into(text, &mut out, &mut cache);
            return out;
        };
        let mut start = 0;
        for m in matcher.find_iter(text) {
            self.encode_ordinary_into(&text[start..m.start()], &mut out, &mut cache);
            out.push(ids[m.pattern().as_usize()]);
            start = m.end();
        }
        self.encode_ordinary_into(&text[start..], &mut out, &mut cache);
        out
    }

    /// Token ids of `text` read as plain text: control-token strings are tokenized like any
    /// other characters.
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3);
        self.encode_ordinary_into(text, &mut out, &mut PieceCache::new());
        out
    }

    fn encode_ordinary_into<'t>(
        &self,
        text: &'t str,
        out: &mut Vec<u32>,
        cache: &mut PieceCache<'t>,
    ) {
        let mut symbols = Vec::new();
        self.pre_tokenizer.for_each_piece(text, |piece| {
            // Words repeat: merge each distinct piece once per call.
            let ids = cache.entry(piece).or_insert_with(|| {
                symbols.clear();
                symbols.extend(piece.bytes().filter_map(|b| self.byte_ids[usize::from(b)]));
                self.merges.apply(&symbols)
            });
            out.extend_from_slice(ids);
        });
    }

    /// The bytes `ids` stand for. Literal tokens give their text; ids outside the vocabulary
    /// give U+FFFD.
    pub fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            let i = id as usize;
            match (self.tokens.get(i), self.types.get(i)) {
                (Some(text), Some(ty)) if ty.is_literal() => out.extend_from_slice(text.as_bytes()),
                (Some(text), _) => self.byte_level.decode_into(text, &mut out),
                (None, _) => out.extend_from_slice("\u{FFFD}".as_bytes()),
            }
        }
        out
    }

    /// The text `ids` stand for; invalid UTF-8 (a sequence cut inside a character) becomes
    /// U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// A token's string in the vocabulary (byte-level alphabet for normal tokens).
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The id of a token string (byte-level alphabet for normal tokens: `"Ġthe"`).
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.types.get(id as usize).copied()
    }

    pub fn pre_tokenizer(&self) -> PreKind {
        self.pre
    }

    /// Bytes that have no token and are dropped by [`Self::encode`].
    pub fn bytes_without_token(&self) -> Vec<u8> {
        (0..=255u8)
            .filter(|&b| self.byte_ids[usize::from(b)].is_none())
            .collect()
    }
}

fn literal_matcher(vocab: &Vocab) -> Result<Option<(AhoCorasick, Vec<u32>)>, TokenizerError> {
    let (ids, texts): (Vec<u32>, Vec<&str>) = vocab
        .types
        .iter()
        .zip(&vocab.tokens)
        .enumerate()
        .filter(|(_, (ty, text))| ty.is_literal() && !text.is_empty())
        .map(|(i, (_, text))| (i as u32, text.as_str()))
        .unzip();
    if ids.is_empty() {
        return Ok(None);
    }
    let matcher = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&texts)
        .map_err(|e| TokenizerError::Pattern(e.to_string()))?;
    Ok(Some((matcher, ids)))
}
