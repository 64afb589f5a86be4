//! The vocabulary described by a GGUF file's `tokenizer.ggml.*` metadata, validated.

use std::collections::HashMap;

use crate::gguf::Gguf;

use super::bpe::Merges;
use super::byte_level::ByteLevel;
use super::error::TokenizerError;

pub const MODEL_KEY: &str = "tokenizer.ggml.model";
pub const PRE_KEY: &str = "tokenizer.ggml.pre";
pub const TOKENS_KEY: &str = "tokenizer.ggml.tokens";
pub const TOKEN_TYPE_KEY: &str = "tokenizer.ggml.token_type";
pub const MERGES_KEY: &str = "tokenizer.ggml.merges";
pub const BOS_KEY: &str = "tokenizer.ggml.bos_token_id";
pub const EOS_KEY: &str = "tokenizer.ggml.eos_token_id";

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Normal,
    Unknown,
    /// Control tokens such as `<|im_start|>`: matched literally in text, never BPE-merged.
    Control,
    /// Added tokens, also matched literally.
    UserDefined,
    Unused,
    Byte,
    /// A number llama.cpp does not define; treated as normal.
    Other(i64),
}

impl TokenType {
    fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Normal,
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            other => Self::Other(other),
        }
    }

    /// Whether text containing the token's string is split around it before BPE.
    pub fn is_literal(self) -> bool {
        matches!(self, Self::Control | Self::UserDefined)
    }
}

/// Which pre-tokenization the file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreKind {
    /// Digits isolated, then GPT-2's pattern.
    SmolLm,
    /// GPT-2's pattern only.
    Gpt2,
}

pub struct Vocab {
    pub tokens: Vec<String>,
    pub types: Vec<TokenType>,
    pub ids: HashMap<String, u32>,
    pub merges: Merges,
    /// Each byte's single-character token; `None` for bytes the vocabulary lacks (SmolLM2 has
    /// no token for 21 bytes: six control characters and bytes that never or rarely occur in
    /// UTF-8).
    pub byte_ids: [Option<u32>; 256],
    pub pre: PreKind,
    pub bos: u32,
    pub eos: u32,
}

impl Vocab {
    pub fn from_gguf(gguf: &Gguf, byte_level: &ByteLevel) -> Result<Self, TokenizerError> {
        let model = gguf.str(MODEL_KEY)?;
        if model != "gpt2" {
            return Err(TokenizerError::UnsupportedModel(model.to_string()));
        }
        let pre = match gguf.str(PRE_KEY)? {
            "smollm" => PreKind::SmolLm,
            "gpt-2" | "gpt2" => PreKind::Gpt2,
            other => return Err(TokenizerError::UnsupportedPreTokenizer(other.to_string())),
        };
        let tokens: Vec<String> = gguf
            .string_array(TOKENS_KEY)?
            .into_iter()
            .map(str::to_string)
            .collect();
        if u32::try_from(tokens.len()).is_err() {
            return Err(TokenizerError::VocabTooLarge(tokens.len()));
        }
        let types = token_types(gguf, tokens.len())?;
        // Later duplicates win, as in llama.cpp's token_to_id map.
        let ids: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let merges = merges(gguf, &ids)?;
        let byte_ids = byte_ids(&ids, byte_level);
        let special = |key: &'static str| -> Result<u32, TokenizerError> {
            let id = gguf.u32(key)?;
            if id as usize >= tokens.len() {
                return Err(TokenizerError::SpecialIdOutOfRange {
                    key,
                    id,
                    vocab_size: tokens.len(),
                });
            }
            Ok(id)
        };
        let bos = special(BOS_KEY)?;
        let eos = special(EOS_KEY)?;
        Ok(Self {
            tokens,
            types,
            ids,
            merges,
            byte_ids,
            pre,
            bos,
            eos,
        })
    }
}

/// The type of every token; all normal when the file has no `token_type` array.
fn token_types(gguf: &Gguf, count: usize) -> Result<Vec<TokenType>, TokenizerError> {
    if gguf.get(TOKEN_TYPE_KEY).is_none() {
        return Ok(vec![TokenType::Normal; count]);
    }
    let codes = gguf.int_array(TOKEN_TYPE_KEY)?;
    if codes.len() != count {
        return Err(TokenizerError::TokenTypeCount {
            tokens: count,
            types: codes.len(),
        });
    }
    Ok(codes.into_iter().map(TokenType::from_code).collect())
}

/// Each merge `"left right"`, in rank order, as ids of both parts and of their concatenation.
fn merges(gguf: &Gguf, ids: &HashMap<String, u32>) -> Result<Merges, TokenizerError> {
    let list = gguf.string_array(MERGES_KEY)?;
    let mut merges = Merges::default();
    for (index, merge) in list.into_iter().enumerate() {
        let bad = |reason: String| TokenizerError::BadMerge {
            index,
            merge: merge.to_string(),
            reason,
        };
        let (left, right) = merge
            .split_once(' ')
            .ok_or_else(|| bad("expected two tokens separated by a space".into()))?;
        let id_of = |part: &str| {
            ids.get(part)
                .copied()
                .ok_or_else(|| bad(format!("{part:?} is not in the vocabulary")))
        };
        let merged = format!("{left}{right}");
        merges.push(id_of(left)?, id_of(right)?, id_of(&merged)?);
    }
    Ok(merges)
}

/// The id of each byte's single-character token, which byte-level BPE starts from.
fn byte_ids(ids: &HashMap<String, u32>, byte_level: &ByteLevel) -> [Option<u32>; 256] {
    std::array::from_fn(|byte| {
        let c = byte_level.char_of(byte as u8);
        ids.get(c.encode_utf8(&mut [0; 4])).copied()
    })
}
