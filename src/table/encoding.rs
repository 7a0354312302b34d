//! Text decoding for CSV input: strips a UTF-8 byte-order mark, checks UTF-8 as it streams (so a
//! GB18030 file read as UTF-8 gets a clear error with the byte offset, not a garbled table), and
//! transcodes GB18030 to UTF-8 on the fly (`--encoding gb18030`).

use std::io::{self, Read};

/// A reader that yields validated UTF-8 from UTF-8 (BOM stripped) or GB18030 input.
pub struct DecodeReader<R: Read> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    /// Raw bytes read but not yet handed out (UTF-8 mode: an incomplete trailing sequence).
    pending: Vec<u8>,
    /// Decoded output not yet handed out.
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes of input consumed so far (for error offsets).
    offset: u64,
    started: bool,
    eof: bool,
}

/// Marker inside the `io::Error` message so callers can turn it into `Error::Encoding`.
pub const BAD_TEXT: &str = "spotcheck-bad-text-at-byte ";

impl<R: Read> DecodeReader<R> {
    /// `gb18030 = true` transcodes from GB18030; otherwise the input must be UTF-8.
    pub fn new(inner: R, gb18030: bool) -> Self {
        DecodeReader {
            inner,
            decoder: gb18030.then(|| encoding_rs::GB18030.new_decoder_without_bom_handling()),
            pending: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            offset: 0,
            started: false,
            eof: false,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut buf = vec![0u8; 256 * 1024];
        while self.out_pos >= self.out.len() && !self.eof {
            self.out.clear();
            self.out_pos = 0;
            let n = self.inner.read(&mut buf)?;
            let last = n == 0;
            self.pending.extend_from_slice(&buf[..n]);
            if !self.started {
                if self.pending.len() < 3 && !last {
                    continue;
                }
                self.started = true;
                if self.pending.starts_with(b"\xEF\xBB\xBF") {
                    self.pending.drain(..3);
                    self.offset += 3;
                }
            }
            match &mut self.decoder {
                None => {
                    let valid_up_to = match std::str::from_utf8(&self.pending) {
                        Ok(_) => self.pending.len(),
                        Err(e) if e.error_len().is_none() && !last => e.valid_up_to(),
                        Err(e) => {
                            return Err(bad_text(self.offset + e.valid_up_to() as u64));
                        }
                    };
                    self.out.extend(self.pending.drain(..valid_up_to));
                    self.offset += valid_up_to as u64;
                }
                Some(dec) => {
                    let cap = dec
                        .max_utf8_buffer_length_without_replacement(self.pending.len())
                        .unwrap_or(self.pending.len() * 3 + 16);
                    self.out.resize(cap, 0);
                    let (res, read, written) =
                        dec.decode_to_utf8_without_replacement(&self.pending, &mut self.out, last);
                    self.out.truncate(written);
                    if let encoding_rs::DecoderResult::Malformed(_, _) = res {
                        return Err(bad_text(self.offset + read as u64));
                    }
                    self.pending.drain(..read);
                    self.offset += read as u64;
                }
            }
            if last {
                self.eof = true;
            }
        }
        Ok(())
    }
}

fn bad_text(offset: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{BAD_TEXT}{offset}"))
}

/// The byte offset of a bad-text error produced by this module, if the message is one.
pub fn bad_text_offset(msg: &str) -> Option<u64> {
    let i = msg.find(BAD_TEXT)?;
    msg[i + BAD_TEXT.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.fill()?;
        let avail = &self.out[self.out_pos..];
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], gb: bool) -> io::Result<String> {
        let mut s = String::new();
        DecodeReader::new(bytes, gb).read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn strips_bom_and_passes_utf8() {
        assert_eq!(
            decode("\u{FEFF}统一,b\n".as_bytes(), false).unwrap(),
            "统一,b\n"
        );
        assert_eq!(decode(b"ab", false).unwrap(), "ab");
        assert_eq!(decode(b"", false).unwrap(), "");
    }

    #[test]
    fn gb18030_transcodes() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("企业名称,海淀区\n");
        assert_eq!(decode(&bytes, true).unwrap(), "企业名称,海淀区\n");
        // The same bytes read as UTF-8: an error naming the offset of the first bad byte (0).
        let e = decode(&bytes, false).unwrap_err();
        assert_eq!(bad_text_offset(&e.to_string()), Some(0));
    }
}
