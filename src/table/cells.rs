//! Cell access over Arrow arrays of any type: a column arrives as strings (CSV, JSON Lines, XLSX)
//! or typed (Parquet, Arrow IPC). `TextColumn` gives every cell as trimmed text (numbers formatted
//! the way Arrow casts them) and `NumColumn` gives numbers directly when the column is numeric,
//! parsing text otherwise; `BoolColumn` reads Arrow booleans directly. Empty or all-space text is
//! null (SPEC §1.1). `Memo` remembers a parser's answers for the few distinct texts of an enum
//! column, so 10⁷ cells cost a handful of parses; `EnumColumn` goes further for dictionary
//! arrays (Parquet read with `ReadOptions::dictionary`): one parse per dictionary value, then a
//! lookup per cell.

use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};

use crate::{Error, Result};

/// A column viewed as text.
pub struct TextColumn {
    values: StringArray,
}

impl TextColumn {
    /// Casts any array to text (a no-op for `Utf8`).
    pub fn new(array: &ArrayRef, path: &Path) -> Result<Self> {
        let values = match array.data_type() {
            DataType::Utf8 => array.as_string::<i32>().clone(),
            _ => {
                let c = cast(array, &DataType::Utf8).map_err(|source| Error::Arrow {
                    path: path.to_path_buf(),
                    source,
                })?;
                c.as_string::<i32>().clone()
            }
        };
        Ok(TextColumn { values })
    }

    /// The trimmed cell, or `None` when null or blank.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        if self.values.is_null(i) {
            return None;
        }
        let s = trim_cell(self.values.value(i));
        (!s.is_empty()).then_some(s)
    }

    /// The underlying array.
    pub fn array(&self) -> &StringArray {
        &self.values
    }
}

/// `s.trim()`, without looking for white space at the ends when they cannot be any: a visible
/// ASCII character or a CJK ideograph (U+4000–U+9FFF, lead byte E4–E9) at both ends, as in
/// nearly every code and name.
///
/// ```
/// use spotcheck::table::cells::trim_cell;
/// assert_eq!(trim_cell("91110108EXAMPLE008"), "91110108EXAMPLE008");
/// assert_eq!(trim_cell("北京甲公司"), "北京甲公司");
/// assert_eq!(trim_cell("\u{3000}北京甲公司 "), "北京甲公司");
/// assert_eq!(trim_cell(" x\t"), "x");
/// assert_eq!(trim_cell(""), "");
/// ```
#[inline]
pub fn trim_cell(s: &str) -> &str {
    let b = s.as_bytes();
    let cjk = |x: u8| (0xE4..=0xE9).contains(&x);
    let plain = match b {
        [] => true,
        [f, .., l] => {
            (f.is_ascii_graphic() || cjk(*f))
                && (l.is_ascii_graphic() || (*l >= 0x80 && b.len() >= 3 && cjk(b[b.len() - 3])))
        }
        [f] => f.is_ascii_graphic(),
    };
    if plain { s } else { s.trim() }
}

/// An enum column (districts, tiers, classes) parsed cell by cell. A dictionary array's values
/// are parsed once each and its cells are looked up by key; any other array is read as text and
/// each cell goes through the caller's [`Memo`].
pub struct EnumColumn<T: Copy> {
    text: TextColumn,
    /// For a dictionary array: its keys and, per dictionary value, `None` when blank, else the
    /// parsed value (`None` inside when the text is not valid).
    coded: Option<(arrow::array::Int32Array, Vec<Option<Option<T>>>)>,
}

impl<T: Copy> EnumColumn<T> {
    /// Views `array` as an enum column (dictionary values are parsed here, through `memo`).
    pub fn new<F: FnMut(&str) -> Option<T>>(
        array: &ArrayRef,
        path: &Path,
        memo: &mut Memo<T, F>,
    ) -> Result<Self> {
        if let DataType::Dictionary(k, _) = array.data_type()
            && **k == DataType::Int32
        {
            let d = array.as_dictionary::<arrow::datatypes::Int32Type>();
            let text = TextColumn::new(d.values(), path)?;
            let parsed = (0..text.array().len())
                .map(|j| text.get(j).map(|s| memo.get(s)))
                .collect();
            return Ok(EnumColumn {
                text,
                coded: Some((d.keys().clone(), parsed)),
            });
        }
        Ok(EnumColumn {
            text: TextColumn::new(array, path)?,
            coded: None,
        })
    }

    /// For a dictionary array: its keys and, per dictionary value, `None` when blank, else the
    /// parsed value (`None` inside when the text is not valid) — what [`EnumColumn::get`] looks
    /// up, for callers that go through a whole column at once. `None` for any other array.
    pub fn coded(&self) -> Option<(&arrow::array::Int32Array, &[Option<Option<T>>])> {
        self.coded.as_ref().map(|(k, p)| (k, p.as_slice()))
    }

    /// Cell `i`: `None` when null or blank, else its value, or its trimmed text when that is
    /// not a valid value (for the rejects file).
    #[inline]
    pub fn get<F: FnMut(&str) -> Option<T>>(
        &self,
        i: usize,
        memo: &mut Memo<T, F>,
    ) -> Option<std::result::Result<T, &str>> {
        match &self.coded {
            Some((keys, parsed)) => {
                if keys.is_null(i) {
                    return None;
                }
                let k = keys.value(i) as usize;
                // Arrow checks that every key is within the dictionary when it is read.
                match parsed.get(k).copied().flatten()? {
                    Some(v) => Some(Ok(v)),
                    None => self.text.get(k).map(Err),
                }
            }
            None => {
                let s = self.text.get(i)?;
                Some(memo.get(s).ok_or(s))
            }
        }
    }
}

/// A numeric cell: absent, a number, or text that is not a number (kept for the rejects file).
#[derive(Debug, Clone, PartialEq)]
pub enum Num<'a> {
    Null,
    Value(f64),
    Bad(&'a str),
}

/// A column viewed as numbers.
pub enum NumColumn {
    Float(arrow::array::Float64Array),
    Text(TextColumn),
}

impl NumColumn {
    /// Numeric arrays are read as f64; anything else is parsed from text.
    pub fn new(array: &ArrayRef, path: &Path) -> Result<Self> {
        if array.data_type().is_numeric() {
            let f = cast(array, &DataType::Float64).map_err(|source| Error::Arrow {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(NumColumn::Float(f.as_primitive::<Float64Type>().clone()))
        } else {
            Ok(NumColumn::Text(TextColumn::new(array, path)?))
        }
    }

    /// The cell as a number. NaN and the infinities, which only typed (Parquet, Arrow) columns
    /// can hold, are not numbers a bureau means: they come back as `Num::Bad("NaN")`,
    /// `Num::Bad("inf")` or `Num::Bad("-inf")`, as text that does not parse would, so every reader
    /// rejects them the same way whatever the file's format.
    #[inline]
    pub fn get(&self, i: usize) -> Num<'_> {
        match self {
            NumColumn::Float(a) => {
                if a.is_null(i) {
                    Num::Null
                } else {
                    finite(a.value(i))
                }
            }
            NumColumn::Text(t) => match t.get(i) {
                None => Num::Null,
                Some(s) => match parse_number(s) {
                    Some(v) => Num::Value(v),
                    None => Num::Bad(s),
                },
            },
        }
    }
}

/// A typed cell's value, or the text that stands for it when it is NaN or infinite.
#[inline]
fn finite(v: f64) -> Num<'static> {
    if v.is_finite() {
        Num::Value(v)
    } else if v.is_nan() {
        Num::Bad("NaN")
    } else if v > 0.0 {
        Num::Bad("inf")
    } else {
        Num::Bad("-inf")
    }
}

/// Remembers the answers of a cell parser for the few distinct texts an enum column holds, so a
/// column of 10⁷ `little_giant`s is normalised once, not 10⁷ times. The answers are the parser's
/// own (it must be a pure function of the text); once `CAP` distinct texts are remembered the rest
/// are parsed each time.
///
/// ```
/// use spotcheck::schema::Tier;
/// use spotcheck::table::cells::Memo;
/// let mut m = Memo::new(Tier::parse);
/// assert_eq!(m.get("小巨人"), Some(Tier::LittleGiant));
/// assert_eq!(m.get("小巨人"), Some(Tier::LittleGiant));
/// assert_eq!(m.get("big"), None);
/// ```
pub struct Memo<T: Copy, F = fn(&str) -> Option<T>> {
    parse: F,
    /// Fingerprints of the remembered texts, scanned first (no string comparison per entry).
    prints: Vec<Print>,
    /// Direct-mapped index by 6 bits of the (remixed) fingerprint: entry + 1, or 0.
    slots: [u8; 64],
    seen: Vec<(Box<str>, Option<T>)>,
}

/// A fingerprint of a text. Texts of up to 15 bytes are their own fingerprint (their bytes and
/// length; top bit of the second word clear), so equal fingerprints mean equal texts; longer
/// texts get their first and last 8 bytes and length mixed (top bit set), and the text itself is
/// compared on a match.
type Print = (u64, u64);

#[inline]
fn fingerprint(s: &str) -> Print {
    let b = s.as_bytes();
    let word = |x: &[u8]| {
        let mut w = [0u8; 8];
        w[..x.len()].copy_from_slice(x);
        u64::from_le_bytes(w)
    };
    let n = b.len();
    if n <= 15 {
        let (head, rest) = b.split_at(n.min(8));
        return (word(head), word(rest) | (n as u64) << 56);
    }
    let head = word(&b[..8]);
    let tail = word(&b[n - 8..]);
    let h = (head ^ tail.rotate_left(31) ^ (n as u64).rotate_left(47))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h ^ (h >> 29), 1 << 63 | n as u64)
}

/// Whether a fingerprint is the text itself (no comparison needed).
#[inline]
fn exact(f: Print) -> bool {
    f.1 >> 63 == 0
}

impl<T: Copy, F: FnMut(&str) -> Option<T>> Memo<T, F> {
    /// Distinct texts remembered.
    pub const CAP: usize = 32;

    /// A memo over `parse`.
    pub fn new(parse: F) -> Self {
        Memo {
            parse,
            prints: Vec::new(),
            slots: [0; 64],
            seen: Vec::new(),
        }
    }

    /// `parse(s)`, remembered.
    #[inline]
    pub fn get(&mut self, s: &str) -> Option<T> {
        let f = fingerprint(s);
        let slot = ((f.0 ^ f.1.rotate_left(17)).wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58) as usize;
        if let Some(k) = (self.slots[slot] as usize).checked_sub(1)
            && self.prints[k] == f
            && (exact(f) || *self.seen[k].0 == *s)
        {
            return self.seen[k].1;
        }
        for (k, p) in self.prints.iter().enumerate() {
            if *p == f && (exact(f) || *self.seen[k].0 == *s) {
                return self.seen[k].1;
            }
        }
        let v = (self.parse)(s);
        if self.seen.len() < Self::CAP {
            if self.slots[slot] == 0 {
                self.slots[slot] = self.seen.len() as u8 + 1;
            }
            self.prints.push(f);
            self.seen.push((s.into(), v));
        }
        v
    }
}

/// A column of booleans: Arrow booleans read directly (`true`/`false`, as a cast to text would
/// give them), anything else parsed as text by the caller's parser.
pub enum BoolColumn {
    Bool(arrow::array::BooleanArray),
    Text(TextColumn),
}

impl BoolColumn {
    /// Views any array as booleans.
    pub fn new(array: &ArrayRef, path: &Path) -> Result<Self> {
        match array.data_type() {
            DataType::Boolean => Ok(BoolColumn::Bool(array.as_boolean().clone())),
            _ => Ok(BoolColumn::Text(TextColumn::new(array, path)?)),
        }
    }
}

/// Parses a number cell as bureaus write them (SPEC §12): plain decimal or exponent notation,
/// thousands separators (`1,234.5`, also `，`), full-width digits, signs and points (`１２３．５`),
/// spaces inside (`1 234`, including the ideographic space). Units are not numbers (`12万` is
/// not 120 000), nor are NaN and infinities. Plain ASCII numbers take a fast path (no
/// allocation).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Fast path: the common case of a plain ASCII number.
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let mut clean = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ',' | '，' | ' ' | '\u{3000}' | '\u{00A0}' | '\u{202F}' => {}
            '０'..='９' => clean.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '．' | '。' => clean.push('.'),
            '－' | '−' => clean.push('-'),
            '＋' => clean.push('+'),
            'ｅ' | 'Ｅ' => clean.push('e'),
            c if c.is_ascii() => clean.push(c),
            _ => return None,
        }
    }
    // Words such as "inf" or "nan" are not numbers a bureau writes.
    if !clean.bytes().any(|b| b.is_ascii_digit())
        || clean
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    let v: f64 = clean.parse().ok()?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};
    use std::sync::Arc;

    #[test]
    fn memo_answers_as_the_parser_does() {
        // Texts sharing their first and last 8 bytes and length differ only in the middle: the
        // memo must still tell them apart. More distinct texts than it remembers, twice over.
        fn parse(s: &str) -> Option<usize> {
            s.strip_prefix("prefix__").map(str::len)
        }
        let mut texts: Vec<String> = (0..40)
            .map(|i| format!("prefix__{:02}middle__suffix__", i))
            .collect();
        texts.push("other".into());
        texts.push("prefix__".into());
        // Short texts are their own fingerprint: near neighbours and the empty text.
        for t in [
            "", "a", "b", "ab", "ba", "110108", "110118", "1101080", "prefix_",
        ] {
            texts.push(t.into());
        }
        let mut m = Memo::new(parse);
        for _ in 0..2 {
            for t in &texts {
                assert_eq!(m.get(t), parse(t), "{t}");
            }
        }
        assert_eq!(m.get("prefix__abc"), Some(3));
        assert_eq!(m.get("other"), None);
    }

    #[test]
    fn text_and_numbers_from_any_type() {
        let p = Path::new("t");
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some(" 1,234.5 "),
            Some(" "),
            None,
            Some("x"),
        ]));
        let n = NumColumn::new(&a, p).unwrap();
        assert_eq!(n.get(0), Num::Value(1234.5));
        assert_eq!(n.get(1), Num::Null);
        assert_eq!(n.get(2), Num::Null);
        assert_eq!(n.get(3), Num::Bad("x"));
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(110108), None]));
        let t = TextColumn::new(&a, p).unwrap();
        assert_eq!(t.get(0), Some("110108"));
        assert_eq!(t.get(1), None);
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.5),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(-0.0),
            None,
        ]));
        let n = NumColumn::new(&a, p).unwrap();
        let cells: Vec<Num> = (0..6).map(|i| n.get(i)).collect();
        let want = [
            Num::Value(0.5),
            Num::Bad("NaN"),
            Num::Bad("inf"),
            Num::Bad("-inf"),
            Num::Value(-0.0),
            Num::Null,
        ];
        assert_eq!(cells, want);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
    }

    #[test]
    fn numbers_as_bureaus_write_them() {
        for (text, want) in [
            ("1,234.50", 1234.5),
            ("１２３", 123.0),
            ("１，２３４．５", 1234.5),
            (" 1 234 ", 1234.0),
            ("1\u{3000}000", 1000.0),
            ("－５", -5.0),
            ("12,345,678", 12345678.0),
            ("3.5e2", 350.0),
        ] {
            assert_eq!(parse_number(text), Some(want), "{text}");
        }
        for text in [
            "inf",
            "-inf",
            "NaN",
            "１２万",
            "abc",
            ",",
            "",
            "1.2.3",
            "infinity",
        ] {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    #[test]
    fn enum_cells_read_the_same_from_text_and_from_a_dictionary() {
        use crate::schema::Tier;
        use arrow::array::DictionaryArray;
        use arrow::datatypes::Int32Type;
        let p = Path::new("t");
        let cells = [
            Some(" 小巨人 "),
            None,
            Some("  "),
            Some("big"),
            Some("innovative"),
            Some(" 小巨人 "),
        ];
        let text: ArrayRef = Arc::new(StringArray::from(cells.to_vec()));
        let dict: ArrayRef = Arc::new(
            cells
                .iter()
                .copied()
                .collect::<DictionaryArray<Int32Type>>(),
        );
        let want = [
            Some(Ok(Tier::LittleGiant)),
            None,
            None,
            Some(Err("big")),
            Some(Ok(Tier::Innovative)),
            Some(Ok(Tier::LittleGiant)),
        ];
        for a in [&text, &dict] {
            let mut memo = Memo::new(Tier::parse);
            let col = EnumColumn::new(a, p, &mut memo).unwrap();
            let got: Vec<_> = (0..cells.len()).map(|i| col.get(i, &mut memo)).collect();
            assert_eq!(got, want, "{:?}", a.data_type());
        }
    }
}
