//! GPT-2's byte-level alphabet: each of the 256 byte values as one printable character, so that
//! a vocabulary of strings covers arbitrary bytes.
//!
//! Printable Latin-1 bytes (`!..=~`, `¡..=¬`, `®..=ÿ`) stand for themselves; the other 68 bytes
//! (controls, space, DEL, NBSP, soft hyphen) take the characters from U+0100 on, in byte order.
//! So a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).

/// Characters the mapping uses are all below this code point.
const CHAR_LIMIT: usize = 0x100 + 68;

pub struct ByteLevel {
    byte_to_char: [char; 256],
    char_to_byte: [Option<u8>; CHAR_LIMIT],
}

fn stands_for_itself(b: u8) -> bool {
    matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff)
}

impl ByteLevel {
    pub fn new() -> Self {
        let mut byte_to_char = ['\0'; 256];
        let mut char_to_byte = [None; CHAR_LIMIT];
        let mut next_extra = 0x100u32;
        for b in 0..=255u8 {
            let code = if stands_for_itself(b) {
                u32::from(b)
            } else {
                next_extra += 1;
                next_extra - 1
            };
            // Every code is below CHAR_LIMIT (< 0x144), a valid scalar value.
            let c = char::from_u32(code).unwrap_or('\0');
            byte_to_char[usize::from(b)] = c;
            char_to_byte[code as usize] = Some(b);
        }
        Self {
            byte_to_char,
            char_to_byte,
        }
    }

    pub fn char_of(&self, byte: u8) -> char {
        self.byte_to_char[usize::from(byte)]
    }

    /// The byte a character stands for; `None` for characters outside the alphabet.
    pub fn byte_of(&self, c: char) -> Option<u8> {
        self.char_to_byte.get(c as usize).copied().flatten()
    }

    /// `text`'s UTF-8 bytes in the byte-level alphabet.
    pub fn encode(&self, text: &str) -> String {
        text.bytes().map(|b| self.char_of(b)).collect()
    }

    /// Appends the bytes a token's characters stand for; characters outside the alphabet are
    /// kept as their own UTF-8 (as the Hugging Face decoder does).
    pub fn decode_into(&self, token: &str, out: &mut Vec<u8>) {
        for c in token.chars() {
            match self.byte_of(c) {
                Some(b) => out.push(b),
                None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
    }
}

impl Default for ByteLevel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_alphabet() {
        let bl = ByteLevel::new();
        assert_eq!(bl.char_of(b' '), 'Ġ');
        assert_eq!(bl.char_of(b'\n'), 'Ċ');
        assert_eq!(bl.char_of(0), '\u{100}');
        assert_eq!(bl.char_of(b'a'), 'a');
        assert_eq!(
            bl.char_of(0xad),
            '\u{143}',
            "the soft hyphen is the last extra"
        );
        let all: String = (0..=255u8).map(|b| bl.char_of(b)).collect();
        let mut back = Vec::new();
        bl.decode_into(&all, &mut back);
        assert_eq!(back, (0..=255u8).collect::<Vec<_>>());
    }
}
