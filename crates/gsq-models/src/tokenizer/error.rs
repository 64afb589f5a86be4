//! Why a GGUF file's metadata does not describe a tokenizer this crate can build.

use crate::gguf::GgufError;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("tokenizer metadata: {0}")]
    Metadata(#[from] GgufError),
    #[error("tokenizer.ggml.model is {0:?}; only \"gpt2\" (byte-level BPE) is supported")]
    UnsupportedModel(String),
    #[error(
        "tokenizer.ggml.pre is {0:?}; supported pre-tokenizers: \"smollm\" (digits isolated, \
         then GPT-2's pattern) and \"gpt-2\""
    )]
    UnsupportedPreTokenizer(String),
    #[error("tokenizer.ggml.token_type has {types} entries for {tokens} tokens")]
    TokenTypeCount { tokens: usize, types: usize },
    #[error("the vocabulary has {0} tokens, more than u32 ids can number")]
    VocabTooLarge(usize),
    #[error("merge #{index} {merge:?}: {reason}")]
    BadMerge {
        index: usize,
        merge: String,
        reason: String,
    },
    #[error("{key} is {id}, outside the vocabulary of {vocab_size} tokens")]
    SpecialIdOutOfRange {
        key: &'static str,
        id: u32,
        vocab_size: usize,
    },
    #[error("building the pre-tokenizer pattern: {0}")]
    Pattern(String),
}
