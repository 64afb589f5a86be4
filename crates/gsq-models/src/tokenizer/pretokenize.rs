//! Splitting text into the pieces BPE runs on.
//!
//! SmolLM2 (`tokenizer.ggml.pre = smollm`, Hugging Face's `Digits(individual_digits)` then
//! `ByteLevel`) first isolates every numeric character (`\p{N}`), then splits each remaining
//! piece with GPT-2's pattern: contractions, an optional space plus letters, an optional space
//! plus digits, an optional space plus other symbols, and whitespace (a run of spaces before a
//! word gives its last space to the word). BPE never merges across pieces.

use fancy_regex::Regex;

/// GPT-2's pre-tokenizer pattern, as Hugging Face's ByteLevel and llama.cpp use it.
pub const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

pub struct PreTokenizer {
    pattern: Regex,
    isolate_digits: bool,
}

impl PreTokenizer {
    pub fn new(isolate_digits: bool) -> Result<Self, fancy_regex::Error> {
        Ok(Self {
            pattern: Regex::new(GPT2_PATTERN)?,
            isolate_digits,
        })
    }

    /// Calls `f` on each piece of `text`, in order; the pieces concatenate to `text`.
    pub fn for_each_piece<'t>(&self, text: &'t str, mut f: impl FnMut(&'t str)) {
        if !self.isolate_digits {
            self.split_pattern(text, &mut f);
            return;
        }
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c.is_numeric() {
                self.split_pattern(&text[start..i], &mut f);
                let end = i + c.len_utf8();
                f(&text[i..end]);
                start = end;
            }
        }
        self.split_pattern(&text[start..], &mut f);
    }

    fn split_pattern<'t>(&self, text: &'t str, f: &mut impl FnMut(&'t str)) {
        let mut covered = 0;
        for m in self.pattern.find_iter(text) {
            match m {
                Ok(m) => {
                    // The pattern's last alternatives match any character, so matches are
                    // contiguous; a gap would still be kept as its own piece.
                    if m.start() > covered {
                        f(&text[covered..m.start()]);
                    }
                    f(m.as_str());
                    covered = m.end();
                }
                // Only a backtracking limit can fail here; the rest stays one piece, which
                // still round-trips (it may just split into different tokens).
                Err(_) => break,
            }
        }
        if covered < text.len() {
            f(&text[covered..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        PreTokenizer::new(true)
            .unwrap()
            .for_each_piece(text, |p| out.push(p));
        out
    }

    #[test]
    fn gpt2_pieces_with_isolated_digits() {
        assert_eq!(
            pieces("Hello world's  end, 2024!\n\n"),
            [
                "Hello", " world", "'s", " ", " end", ",", " ", "2", "0", "2", "4", "!", "\n\n"
            ]
        );
        assert_eq!(pieces("x   y"), ["x", "  ", " y"]);
        assert_eq!(pieces("“Ahoy—there”"), ["“", "Ahoy", "—", "there", "”"]);
        assert_eq!(pieces(""), Vec::<&str>::new());
    }
}
