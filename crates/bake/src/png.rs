//! PNG baking by chunk splicing.
//!
//! A PNG is an 8-byte signature followed by chunks: a 4-byte big-endian length, a 4-byte type,
//! the data, and a CRC-32 of type and data. Baking copies every chunk byte for byte, drops any
//! earlier text chunk (`iTXt`, `tEXt` or `zTXt`) with the payload's keyword (`openbadges` for
//! Open Badges 2.0, `openbadgecredential` for 3.0), and writes one uncompressed `iTXt` chunk
//! with that keyword right after `IHDR`; a chunk of the other version is kept, so an image
//! can carry one of each. Pixels are never decoded.
//!
//! Baking checks the whole structure first: the signature, `IHDR` first and well-formed, every
//! CRC, known critical chunks only, `PLTE` where the colour type needs it, at least one run of
//! consecutive `IDAT` chunks, `IEND` last with nothing after it. Unbaking reads only the chunk
//! headers and the text chunks it opens (whose CRCs it checks), so its cost grows with the
//! number of chunks, not with the bytes of image data.

use std::io::{Read, Write};
use std::ops::ControlFlow;

use crate::error::Error;
use crate::limits::{Limits, check_len};
use crate::payload::{Payload, Version};

/// The PNG file signature.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The longest keyword and separator that start the data of a text chunk carrying a payload.
const LONGEST_KEYWORD: usize = 20;
/// The largest chunk length the PNG specification allows (2^31 - 1).
const MAX_CHUNK_LEN: u32 = 0x7fff_ffff;

const IHDR: [u8; 4] = *b"IHDR";
const PLTE: [u8; 4] = *b"PLTE";
const IDAT: [u8; 4] = *b"IDAT";
const IEND: [u8; 4] = *b"IEND";
const ITXT: [u8; 4] = *b"iTXt";
const TEXT: [u8; 4] = *b"tEXt";
const ZTXT: [u8; 4] = *b"zTXt";

/// The colour types of PNG (IHDR byte 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColorType {
    /// 0: greyscale.
    Grayscale,
    /// 2: red, green, blue.
    Rgb,
    /// 3: palette indices.
    Indexed,
    /// 4: greyscale with alpha.
    GrayscaleAlpha,
    /// 6: red, green, blue, alpha.
    Rgba,
}

/// What the `IHDR` chunk of a PNG says.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bits per sample (or per palette index).
    pub bit_depth: u8,
    /// Colour type.
    pub color_type: ColorType,
    /// Whether the image is Adam7 interlaced.
    pub interlaced: bool,
}

impl PngHeader {
    fn parse(data: &[u8], offset: u64) -> Result<Self, Error> {
        let bad = |problem: String| Error::png(offset, Some(IHDR), problem);
        if data.len() != 13 {
            return Err(bad(format!(
                "IHDR holds {} bytes; it must hold 13",
                data.len()
            )));
        }
        let width = be32(&data[0..4]);
        let height = be32(&data[4..8]);
        if width == 0 || height == 0 || width > MAX_CHUNK_LEN || height > MAX_CHUNK_LEN {
            return Err(bad(format!("image size {width}x{height} is out of range")));
        }
        let (bit_depth, color) = (data[8], data[9]);
        let (color_type, depths): (ColorType, &[u8]) = match color {
            0 => (ColorType::Grayscale, &[1, 2, 4, 8, 16]),
            2 => (ColorType::Rgb, &[8, 16]),
            3 => (ColorType::Indexed, &[1, 2, 4, 8]),
            4 => (ColorType::GrayscaleAlpha, &[8, 16]),
            6 => (ColorType::Rgba, &[8, 16]),
            other => return Err(bad(format!("colour type {other} does not exist"))),
        };
        if !depths.contains(&bit_depth) {
            return Err(bad(format!(
                "bit depth {bit_depth} is not allowed with colour type {color}"
            )));
        }
        if data[10] != 0 || data[11] != 0 {
            return Err(bad("unknown compression or filter method".to_owned()));
        }
        let interlaced = match data[12] {
            0 => false,
            1 => true,
            other => return Err(bad(format!("interlace method {other} does not exist"))),
        };
        Ok(PngHeader {
            width,
            height,
            bit_depth,
            color_type,
            interlaced,
        })
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn is_text_chunk(ty: [u8; 4]) -> bool {
    ty == ITXT || ty == TEXT || ty == ZTXT
}

/// The chunk-order rules of the PNG specification, fed one chunk at a time so that the slice
/// and the streaming paths apply exactly the same checks.
#[derive(Debug, Default)]
struct Structure {
    header: Option<PngHeader>,
    palette: bool,
    /// 0: no IDAT yet; 1: in the IDAT run; 2: the run has ended.
    idat: u8,
    ended: bool,
}

impl Structure {
    /// Checks a chunk of type `ty` at `offset`; `data` is given for IHDR only.
    fn chunk(
        &mut self,
        offset: u64,
        ty: [u8; 4],
        len: u32,
        ihdr_data: Option<&[u8]>,
    ) -> Result<(), Error> {
        let err = |problem: &str| Err(Error::png(offset, Some(ty), problem.to_owned()));
        if self.ended {
            return err("chunk after IEND");
        }
        if !ty.iter().all(u8::is_ascii_alphabetic) {
            return err("chunk type is not four ASCII letters");
        }
        if self.header.is_none() && ty != IHDR {
            return err("the first chunk must be IHDR");
        }
        if ty != IDAT && self.idat == 1 {
            self.idat = 2;
        }
        match ty {
            IHDR => {
                if self.header.is_some() {
                    return err("second IHDR chunk");
                }
                self.header = Some(PngHeader::parse(ihdr_data.unwrap_or_default(), offset)?);
            }
            PLTE => {
                if self.palette || self.idat > 0 {
                    return err("PLTE must appear once, before the image data");
                }
                let color = self.header.map(|h| h.color_type);
                if matches!(
                    color,
                    Some(ColorType::Grayscale | ColorType::GrayscaleAlpha)
                ) {
                    return err("PLTE is not allowed in a greyscale image");
                }
                if len == 0 || len % 3 != 0 || len > 256 * 3 {
                    return err("PLTE length must be a multiple of 3, at most 768");
                }
                self.palette = true;
            }
            IDAT => {
                if self.idat == 2 {
                    return err("IDAT chunks must be consecutive");
                }
                if !self.palette
                    && self
                        .header
                        .is_some_and(|h| h.color_type == ColorType::Indexed)
                {
                    return err("an indexed-colour image needs PLTE before IDAT");
                }
                self.idat = 1;
            }
            IEND => {
                if self.idat == 0 {
                    return err("no IDAT chunk before IEND");
                }
                if len != 0 {
                    return err("IEND must be empty");
                }
                self.ended = true;
            }
            _ if ty[0].is_ascii_uppercase() => return err("unknown critical chunk"),
            _ => {}
        }
        Ok(())
    }

    fn finish(&self, end: u64) -> Result<PngHeader, Error> {
        match (self.header, self.ended) {
            (Some(h), true) => Ok(h),
            _ => Err(Error::png(
                end,
                None,
                "the image ends before its IEND chunk",
            )),
        }
    }
}

/// One chunk of a PNG held in memory.
#[derive(Debug, Clone, Copy)]
struct Chunk<'a> {
    offset: usize,
    ty: [u8; 4],
    data: &'a [u8],
    /// The whole chunk: length, type, data and CRC.
    raw: &'a [u8],
}

impl Chunk<'_> {
    fn stored_crc(&self) -> u32 {
        be32(&self.raw[self.raw.len() - 4..])
    }

    fn check_crc(&self) -> Result<(), Error> {
        // Type and data are contiguous in the chunk: one pass over them.
        let computed = crc32fast::hash(&self.raw[4..self.raw.len() - 4]);
        let stored = self.stored_crc();
        if computed == stored {
            Ok(())
        } else {
            Err(Error::png(
                self.offset as u64,
                Some(self.ty),
                format!("CRC mismatch: stored {stored:08x}, computed {computed:08x}"),
            ))
        }
    }
}

/// The version whose payload a chunk of type `ty`, whose data starts with `start`, carries:
/// a text chunk with its keyword.
fn carried(ty: [u8; 4], start: &[u8]) -> Option<Version> {
    if !is_text_chunk(ty) {
        return None;
    }
    Version::ALL
        .into_iter()
        .find(|v| start.starts_with(v.png_keyword()))
}

/// Whether a chunk carrying `version`'s keyword is read: `iTXt`, or for Open Badges 2.0 the
/// legacy `tEXt` too (3.0 knows `iTXt` only).
fn readable(ty: [u8; 4], version: Version) -> bool {
    ty == ITXT || (ty == TEXT && version == Version::Ob2)
}

/// What unbaking reads, the one policy of [`unbake`] and [`unbake_stream`]: the version of
/// the payload a chunk of type `ty` (its data starting with `start`) holds, when it is one
/// the unbaker reads.
fn payload_in(ty: [u8; 4], start: &[u8]) -> Option<Version> {
    carried(ty, start).filter(|v| readable(ty, *v))
}

/// What baking does with one chunk of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Splice {
    /// Copied byte for byte.
    Keep,
    /// Copied, then followed by the new payload chunk (`IHDR`: the payload is then found
    /// early by readers that stop at the first one).
    KeepThenInsert,
    /// Left out: an earlier payload of the version being baked, which would otherwise appear
    /// twice.
    Drop,
}

/// The splice policy, the one of [`bake`] and [`bake_stream`]: what becomes of a chunk of
/// type `ty` (its data starting with `start`, enough for a keyword) when baking a payload
/// of `version`. Payloads of the other version are kept: an image carries both.
fn splice(ty: [u8; 4], start: &[u8], version: Version) -> Splice {
    if carried(ty, start) == Some(version) {
        Splice::Drop
    } else if ty == IHDR {
        Splice::KeepThenInsert
    } else {
        Splice::Keep
    }
}

/// Reads the chunk starting at `pos`, checking its length against the bytes present.
fn chunk_at(bytes: &[u8], pos: usize) -> Result<Chunk<'_>, Error> {
    let rest = &bytes[pos..];
    if rest.len() < 12 {
        return Err(Error::png(
            pos as u64,
            None,
            format!(
                "truncated chunk: {} bytes left, a chunk needs at least 12",
                rest.len()
            ),
        ));
    }
    let len = be32(&rest[0..4]);
    let ty = [rest[4], rest[5], rest[6], rest[7]];
    if len > MAX_CHUNK_LEN {
        return Err(Error::png(
            pos as u64,
            Some(ty),
            format!("chunk length {len} exceeds 2^31-1"),
        ));
    }
    let total = 12 + len as usize;
    if rest.len() < total {
        return Err(Error::png(
            pos as u64,
            Some(ty),
            format!(
                "chunk length {len} runs past the end of the image ({} bytes left)",
                rest.len() - 12
            ),
        ));
    }
    Ok(Chunk {
        offset: pos,
        ty,
        data: &rest[8..8 + len as usize],
        raw: &rest[..total],
    })
}

fn check_signature(bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() < 8 || bytes[..8] != SIGNATURE {
        return Err(Error::png(0, None, "not a PNG signature"));
    }
    Ok(())
}

/// The `iTXt` chunk that carries `payload`: keyword `openbadges` (Open Badges 2.0) or
/// `openbadgecredential` (3.0), no compression, empty language tag and translated keyword,
/// UTF-8 text.
pub fn openbadges_chunk(payload: &Payload) -> Vec<u8> {
    let keyword = payload.version().png_keyword();
    let mut chunk = Vec::with_capacity(12 + keyword.len() + 4 + payload.as_str().len());
    write_openbadges_chunk(payload, &mut chunk);
    chunk
}

/// Appends the `openbadges` chunk to `out` (no intermediate buffer: the CRC is computed over
/// the bytes just written).
fn write_openbadges_chunk(payload: &Payload, out: &mut Vec<u8>) {
    let text = payload.as_str().as_bytes();
    let keyword = payload.version().png_keyword();
    let data_len = keyword.len() + 4 + text.len();
    let start = out.len();
    // `check_payload` keeps the length within the 2^31-1 a chunk allows.
    out.extend_from_slice(
        &u32::try_from(data_len)
            .unwrap_or(MAX_CHUNK_LEN)
            .to_be_bytes(),
    );
    out.extend_from_slice(&ITXT);
    out.extend_from_slice(keyword);
    out.extend_from_slice(&[0, 0, 0, 0]); // compression flag, method, language, translated keyword
    out.extend_from_slice(text);
    let crc = crc32fast::hash(&out[start + 4..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn check_payload(payload: &Payload, limits: &Limits) -> Result<(), Error> {
    limits.check_payload(payload.as_str().len())?;
    // A chunk's data must fit the 2^31-1 length field.
    if payload.as_str().len() > (MAX_CHUNK_LEN as usize - LONGEST_KEYWORD - 4) {
        return Err(Error::Misuse(
            "the payload is too large for a PNG chunk".to_owned(),
        ));
    }
    Ok(())
}

/// Bakes `payload` into the PNG `image` and returns the baked image.
///
/// Every byte of the input other than earlier chunks with the payload's keyword is copied
/// unchanged, and the new chunk follows `IHDR`.
///
/// # Errors
/// [`Error::Malformed`] (with byte offset and chunk) when the image is not a well-formed PNG,
/// [`Error::LimitExceeded`] when the image or payload exceeds `limits`.
pub fn bake(image: &[u8], payload: &Payload, limits: &Limits) -> Result<Vec<u8>, Error> {
    limits.check_image(image.len() as u64)?;
    check_payload(payload, limits)?;
    let mut out =
        Vec::with_capacity(image.len() + 12 + LONGEST_KEYWORD + 4 + payload.as_str().len());
    out.extend_from_slice(&SIGNATURE);
    walk(image, |chunk| {
        match splice(chunk.ty, chunk.data, payload.version()) {
            Splice::Drop => {}
            Splice::Keep => out.extend_from_slice(chunk.raw),
            Splice::KeepThenInsert => {
                out.extend_from_slice(chunk.raw);
                write_openbadges_chunk(payload, &mut out);
            }
        }
    })?;
    Ok(out)
}

/// Walks every chunk of a PNG with the full checks (signature, every CRC, the chunk-order
/// rules, IEND last), calling `each` on each chunk in order; returns the header.
fn walk<'a>(image: &'a [u8], mut each: impl FnMut(&Chunk<'a>)) -> Result<PngHeader, Error> {
    check_signature(image)?;
    let mut structure = Structure::default();
    let mut pos = 8;
    while pos < image.len() {
        let chunk = chunk_at(image, pos)?;
        chunk.check_crc()?;
        let ihdr = (chunk.ty == IHDR).then_some(chunk.data);
        structure.chunk(pos as u64, chunk.ty, chunk.data.len() as u32, ihdr)?;
        each(&chunk);
        pos += chunk.raw.len();
    }
    structure.finish(pos as u64)
}

/// Reads the Open Badges payload of the PNG `image`, wherever it is between `IHDR` and `IEND`:
/// the first `iTXt` chunk (compressed or not) or legacy `tEXt` chunk with keyword `openbadges`
/// (an Open Badges 2.0 payload), or `iTXt` chunk with keyword `openbadgecredential` (an Open
/// Badges 3.0 credential, which must not be compressed), whichever comes first; the payload
/// says which. Returns `Ok(None)` when the image holds none.
///
/// Only `IHDR`, chunk headers and the text chunks opened are read; other chunks are skipped by
/// their length, so their CRCs are not checked (use [`check`] for that).
///
/// # Errors
/// [`Error::Malformed`] for a bad signature, a first chunk that is not a valid `IHDR` (its CRC,
/// size, colour type and bit depth are checked), a chunk length
/// that runs past the end, an image that ends before `IEND`, or an `openbadges` chunk with a
/// bad CRC or unreadable text; [`Error::LimitExceeded`] for a payload over the limit.
pub fn unbake(image: &[u8], limits: &Limits) -> Result<Option<Payload>, Error> {
    let mut first = None;
    each_payload(image, limits, |payload| {
        first = Some(payload);
        ControlFlow::Break(())
    })?;
    Ok(first)
}

/// Every payload of the PNG `image`, of either version, in chunk order (what [`unbake`]
/// reads, for each chunk): how a verifier tells that a credential is baked only once.
///
/// # Errors
/// As [`unbake`].
pub fn unbake_all(image: &[u8], limits: &Limits) -> Result<Vec<Payload>, Error> {
    let mut all = Vec::new();
    each_payload(image, limits, |payload| {
        all.push(payload);
        ControlFlow::Continue(())
    })?;
    Ok(all)
}

/// Hands `found` the payloads of `image` in chunk order until it breaks. A callback rather
/// than a list, so that [`unbake`] allocates nothing beyond its payload (a list made it
/// 24-32 ns slower at every image size: BENCHMARKS.md, "Baking").
fn each_payload(
    image: &[u8],
    limits: &Limits,
    mut found: impl FnMut(Payload) -> ControlFlow<()>,
) -> Result<(), Error> {
    limits.check_image(image.len() as u64)?;
    check_signature(image)?;
    let mut pos = 8;
    loop {
        let chunk = chunk_at(image, pos)?;
        if pos == 8 {
            if chunk.ty != IHDR {
                return Err(Error::png(
                    8,
                    Some(chunk.ty),
                    "the first chunk must be IHDR",
                ));
            }
            // A header that is corrupt or names no real image is not a PNG at all: 13 bytes to
            // check, whatever the image's size.
            chunk.check_crc()?;
            PngHeader::parse(chunk.data, 8)?;
        }
        if chunk.ty == IEND {
            return Ok(());
        }
        if let Some(version) = payload_in(chunk.ty, chunk.data) {
            chunk.check_crc()?;
            let payload = decode_text(chunk.ty, chunk.data, version, pos as u64, limits)?;
            if found(payload).is_break() {
                return Ok(());
            }
        }
        pos += chunk.raw.len();
    }
}

/// Checks that `image` is a well-formed PNG (the checks [`bake`] makes) and returns its header.
///
/// # Errors
/// As [`bake`].
pub fn check(image: &[u8]) -> Result<PngHeader, Error> {
    walk(image, |_| {})
}

/// Reads the header of a PNG without walking its chunks.
///
/// # Errors
/// [`Error::Malformed`] when the signature or the `IHDR` chunk is missing or malformed.
pub fn header(image: &[u8]) -> Result<PngHeader, Error> {
    check_signature(image)?;
    let chunk = chunk_at(image, 8)?;
    if chunk.ty != IHDR {
        return Err(Error::png(
            8,
            Some(chunk.ty),
            "the first chunk must be IHDR",
        ));
    }
    chunk.check_crc()?;
    PngHeader::parse(chunk.data, 8)
}

/// Decodes the data of a text chunk that starts with `version`'s keyword.
fn decode_text(
    ty: [u8; 4],
    data: &[u8],
    version: Version,
    offset: u64,
    limits: &Limits,
) -> Result<Payload, Error> {
    let bad = |problem: &str| Error::png(offset, Some(ty), problem.to_owned());
    let rest = &data[version.png_keyword().len()..];
    let text = if ty == TEXT {
        // tEXt is Latin-1: the limit applies to the UTF-8 text it becomes, in which each
        // byte from 0x80 takes two.
        limits.check_payload(rest.len() + rest.iter().filter(|&&b| b >= 0x80).count())?;
        rest.iter().map(|&b| char::from(b)).collect::<String>()
    } else {
        let [flag, method, tail @ ..] = rest else {
            return Err(bad("iTXt chunk ends inside its header"));
        };
        let after_lang = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| bad("iTXt language tag is not terminated"))?;
        let tail = &tail[after_lang + 1..];
        let after_translated = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| bad("iTXt translated keyword is not terminated"))?;
        let body = &tail[after_translated + 1..];
        let bytes = match (flag, method) {
            (0, _) => {
                limits.check_payload(body.len())?;
                body.to_vec()
            }
            (1, _) if version == Version::Ob3 => {
                return Err(bad(
                    "the openbadgecredential chunk is compressed; Open Badges 3.0 forbids it",
                ));
            }
            (1, 0) => {
                miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(body, limits.max_payload)
                    .map_err(|e| {
                        if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                            Error::LimitExceeded {
                                which: crate::error::Limit::Payload,
                                what: "decompressed payload",
                                found: limits.max_payload as u64 + 1,
                                limit: limits.max_payload as u64,
                            }
                        } else {
                            bad("compressed iTXt text is not valid zlib data")
                        }
                    })?
            }
            _ => return Err(bad("unknown iTXt compression")),
        };
        String::from_utf8(bytes).map_err(|_| bad("iTXt text is not UTF-8"))?
    };
    if text.is_empty() {
        return Err(bad("the openbadges chunk holds no text"));
    }
    Ok(Payload::read(text, version))
}

// ---------------------------------------------------------------------------------------------
// Streaming

/// Reads exactly `buf.len()` bytes, counting them against the input limit.
struct Input<R> {
    inner: R,
    read: u64,
    max: u64,
    /// Copy buffer, allocated once per stream on first use.
    buf: Vec<u8>,
}

impl<R: Read> Input<R> {
    /// Starts reading a PNG: checks the signature.
    fn open(inner: R, limits: &Limits) -> Result<Self, Error> {
        let mut input = Input {
            inner,
            read: 0,
            max: limits.max_input,
            buf: Vec::new(),
        };
        let mut signature = [0u8; 8];
        input.exact(&mut signature, "the signature")?;
        check_signature(&signature)?;
        Ok(input)
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), Error> {
        self.count(buf.len() as u64)?;
        self.inner.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::png(
                    self.read - buf.len() as u64,
                    None,
                    format!("the image ends inside {what}"),
                )
            } else {
                Error::Io(e)
            }
        })
    }

    fn count(&mut self, n: u64) -> Result<(), Error> {
        self.read += n;
        check_len(crate::error::Limit::Input, "image", self.read, self.max)
    }

    /// Whether the input is at its end (reads one byte to find out, returned if present).
    fn at_end(&mut self) -> Result<Option<u8>, Error> {
        let mut b = [0u8];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(b[0])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// Copies `len` bytes to `out` (or drops them when `out` is `None`), feeding `crc`.
    fn copy(
        &mut self,
        len: u64,
        crc: &mut crc32fast::Hasher,
        mut out: Option<&mut dyn Write>,
        what: &str,
    ) -> Result<(), Error> {
        const BLOCK: u64 = 64 * 1024;
        // One buffer per stream, grown to the largest block needed (at most 64 KiB).
        let mut buf = std::mem::take(&mut self.buf);
        let need = len.min(BLOCK) as usize;
        if buf.len() < need {
            buf.resize(need, 0);
        }
        let mut left = len;
        let result = loop {
            if left == 0 {
                break Ok(());
            }
            let n = left.min(BLOCK) as usize;
            if let Err(e) = self.exact(&mut buf[..n], what) {
                break Err(e);
            }
            crc.update(&buf[..n]);
            if let Some(w) = out.as_deref_mut() {
                if let Err(e) = w.write_all(&buf[..n]) {
                    break Err(Error::Io(e));
                }
            }
            left -= n as u64;
        };
        self.buf = buf;
        result
    }
}

/// A chunk header read from a stream.
struct StreamChunk {
    offset: u64,
    len: u32,
    ty: [u8; 4],
}

fn read_header<R: Read>(input: &mut Input<R>) -> Result<StreamChunk, Error> {
    let offset = input.read;
    let mut head = [0u8; 8];
    input.exact(&mut head, "a chunk header")?;
    let len = be32(&head[0..4]);
    let ty = [head[4], head[5], head[6], head[7]];
    if len > MAX_CHUNK_LEN {
        return Err(Error::png(
            offset,
            Some(ty),
            format!("chunk length {len} exceeds 2^31-1"),
        ));
    }
    Ok(StreamChunk { offset, len, ty })
}

fn read_crc<R: Read>(
    input: &mut Input<R>,
    chunk: &StreamChunk,
    crc: crc32fast::Hasher,
) -> Result<[u8; 4], Error> {
    let mut stored = [0u8; 4];
    input.exact(&mut stored, "a chunk CRC")?;
    let computed = crc.finalize();
    if computed != u32::from_be_bytes(stored) {
        return Err(Error::png(
            chunk.offset,
            Some(chunk.ty),
            format!(
                "CRC mismatch: stored {:08x}, computed {computed:08x}",
                u32::from_be_bytes(stored)
            ),
        ));
    }
    Ok(stored)
}

/// Reads the start of a text chunk's data, far enough to tell whether it is an `openbadges`
/// chunk. Returns the bytes read.
/// Reads the data and CRC of an `IHDR` chunk whose header was read, checking its length and
/// CRC.
fn read_ihdr<R: Read>(
    input: &mut Input<R>,
    chunk: &StreamChunk,
) -> Result<([u8; 13], [u8; 4]), Error> {
    if chunk.len != 13 {
        return Err(Error::png(
            chunk.offset,
            Some(IHDR),
            format!("IHDR holds {} bytes; it must hold 13", chunk.len),
        ));
    }
    let mut data = [0u8; 13];
    input.exact(&mut data, "IHDR")?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&IHDR);
    crc.update(&data);
    let stored = read_crc(input, chunk, crc)?;
    Ok((data, stored))
}

/// Reads the start of a text chunk: as many bytes as the keyword it may carry, and no more
/// (so that a chunk of another kind, or one whose length lies, is judged from what is there).
fn read_keyword<R: Read>(input: &mut Input<R>, chunk: &StreamChunk) -> Result<Vec<u8>, Error> {
    let len = chunk.len as usize;
    let mut start = Vec::with_capacity(LONGEST_KEYWORD);
    for keyword in Version::ALL.map(Version::png_keyword) {
        if !keyword.starts_with(&start) {
            continue;
        }
        let have = start.len();
        let want = keyword.len().min(len);
        if want > have {
            start.resize(want, 0);
            input.exact(&mut start[have..], "a text chunk")?;
        }
        if start.as_slice() == keyword {
            break;
        }
    }
    Ok(start)
}

/// Bakes `payload` into the PNG read from `input`, writing the baked image to `output`, in
/// constant memory (a 64 KiB buffer) beyond the payload.
///
/// Each chunk's CRC is checked as it is copied. The output is written as the input is read,
/// so when this returns an error, `output` holds an incomplete image that the caller must
/// discard; [`crate::bake_file`] does that for files.
///
/// # Errors
/// As [`bake`], plus [`Error::Io`].
pub fn bake_stream<R: Read, W: Write>(
    input: R,
    payload: &Payload,
    mut output: W,
    limits: &Limits,
) -> Result<(), Error> {
    check_payload(payload, limits)?;
    let mut input = Input::open(input, limits)?;
    output.write_all(&SIGNATURE)?;
    let mut structure = Structure::default();
    loop {
        let chunk = read_header(&mut input)?;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&chunk.ty);
        if chunk.ty == IHDR {
            // Read whole (the structure checks need it), then copied as `splice` says.
            let (data, stored) = read_ihdr(&mut input, &chunk)?;
            structure.chunk(chunk.offset, IHDR, chunk.len, Some(&data))?;
            let then = splice(IHDR, &data, payload.version());
            output.write_all(&chunk.len.to_be_bytes())?;
            output.write_all(&IHDR)?;
            output.write_all(&data)?;
            output.write_all(&stored)?;
            if then == Splice::KeepThenInsert {
                output.write_all(&openbadges_chunk(payload))?;
            }
            continue;
        }
        structure.chunk(chunk.offset, chunk.ty, chunk.len, None)?;
        // A text chunk's keyword is read first: it decides the chunk's fate.
        let start = if is_text_chunk(chunk.ty) {
            read_keyword(&mut input, &chunk)?
        } else {
            Vec::new()
        };
        crc.update(&start);
        let remaining = u64::from(chunk.len) - start.len() as u64;
        if splice(chunk.ty, &start, payload.version()) == Splice::Drop {
            // Checked, then left out.
            input.copy(remaining, &mut crc, None, "a text chunk")?;
            read_crc(&mut input, &chunk, crc)?;
        } else {
            output.write_all(&chunk.len.to_be_bytes())?;
            output.write_all(&chunk.ty)?;
            output.write_all(&start)?;
            input.copy(remaining, &mut crc, Some(&mut output), "chunk data")?;
            let stored = read_crc(&mut input, &chunk, crc)?;
            output.write_all(&stored)?;
        }
        if chunk.ty == IEND {
            if input.at_end()?.is_some() {
                return Err(Error::png(input.read, None, "data after IEND"));
            }
            structure.finish(input.read)?;
            output.flush()?;
            return Ok(());
        }
    }
}

/// Reads the Open Badges payload of the PNG read from `input` (see [`unbake`]), in constant
/// memory beyond the payload.
///
/// # Errors
/// As [`unbake`], plus [`Error::Io`].
pub fn unbake_stream<R: Read>(input: R, limits: &Limits) -> Result<Option<Payload>, Error> {
    let mut input = Input::open(input, limits)?;
    let mut first = true;
    loop {
        let chunk = read_header(&mut input)?;
        if first {
            if chunk.ty != IHDR {
                return Err(Error::png(
                    chunk.offset,
                    Some(chunk.ty),
                    "the first chunk must be IHDR",
                ));
            }
            // Checked in full, as `unbake` does.
            let (data, _) = read_ihdr(&mut input, &chunk)?;
            PngHeader::parse(&data, chunk.offset)?;
            first = false;
            continue;
        }
        if chunk.ty == IEND {
            return Ok(None);
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&chunk.ty);
        let start = if is_text_chunk(chunk.ty) {
            read_keyword(&mut input, &chunk)?
        } else {
            Vec::new()
        };
        let remaining = u64::from(chunk.len) - start.len() as u64;
        if let Some(version) = payload_in(chunk.ty, &start) {
            // Bounded before allocating: the payload limit plus the iTXt header fields.
            let limit = limits.max_payload as u64 + 4 + 2 * 256;
            check_len(
                crate::error::Limit::Payload,
                "openbadges chunk",
                remaining,
                limit,
            )?;
            let read = start.len();
            let mut data = start;
            data.resize(chunk.len as usize, 0);
            input.exact(&mut data[read..], "the openbadges chunk")?;
            crc.update(&data);
            read_crc(&mut input, &chunk, crc)?;
            return decode_text(chunk.ty, &data, version, chunk.offset, limits).map(Some);
        }
        // Skip the rest of the chunk and its CRC without checking it.
        let skip = remaining + 4;
        input.count(skip)?;
        let copied = std::io::copy(&mut (&mut input.inner).take(skip), &mut std::io::sink())?;
        if copied != skip {
            return Err(Error::png(
                chunk.offset,
                Some(chunk.ty),
                "the image ends inside a chunk",
            ));
        }
    }
}
