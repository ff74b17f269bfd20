//! Integration tests of `badgery-bake` on PngSuite and generated images: golden verdicts,
//! pixel equality after baking, slice and stream agreement, round-trip and splice properties,
//! hostile inputs.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use std::path::{Path, PathBuf};

use badgery_bake::{self as bake, Error, ImageFormat, Limits, Payload, png, svg};
use proptest::prelude::*;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn suite() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(data("pngsuite"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn payload() -> Payload {
    Payload::new(r#"{"@context":"https://w3id.org/openbadges/v2","id":"https://lms.example.org/ob/assertions/1","type":"Assertion"}"#).unwrap()
}

/// Every PNG frame decoded by the `png` crate, with the output info.
fn decode(bytes: &[u8]) -> Vec<(png::ColorType, Vec<u8>)> {
    let mut decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(::png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().unwrap();
    let mut frames = Vec::new();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    while let Ok(info) = reader.next_frame(&mut buf) {
        frames.push((
            png_color(info.color_type),
            buf[..info.buffer_size()].to_vec(),
        ));
    }
    frames
}

fn png_color(c: ::png::ColorType) -> png::ColorType {
    match c {
        ::png::ColorType::Grayscale => png::ColorType::Grayscale,
        ::png::ColorType::Rgb => png::ColorType::Rgb,
        ::png::ColorType::Indexed => png::ColorType::Indexed,
        ::png::ColorType::GrayscaleAlpha => png::ColorType::GrayscaleAlpha,
        ::png::ColorType::Rgba => png::ColorType::Rgba,
    }
}

/// One line per PngSuite file: `name: ok` or `name: <bake error>`, compared with the golden file.
#[test]
fn pngsuite_golden_verdicts() {
    let limits = Limits::default();
    let mut lines = String::new();
    for (name, bytes) in suite() {
        let verdict = match bake::bake(&bytes, &payload(), &limits) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        lines.push_str(&format!("{name}: {verdict}\n"));
        // Invalid images are rejected, valid ones accepted.
        assert_eq!(verdict == "ok", !name.starts_with('x'), "{name}: {verdict}");
    }
    let golden_path = data("pngsuite-results.txt");
    if std::env::var_os("BADGERY_BLESS").is_some() {
        std::fs::write(&golden_path, &lines).unwrap();
    }
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    assert_eq!(
        lines,
        golden,
        "verdicts differ from {}; BADGERY_BLESS=1 rewrites it",
        golden_path.display()
    );
}

#[test]
fn every_valid_pngsuite_image_bakes_decodes_identically_and_unbakes() {
    let limits = Limits::default();
    let mut checked = 0;
    for (name, bytes) in suite().into_iter().filter(|(n, _)| !n.starts_with('x')) {
        let baked = bake::bake(&bytes, &payload(), &limits).unwrap();
        assert_eq!(decode(&baked), decode(&bytes), "{name}: pixels changed");
        assert_eq!(
            bake::unbake(&baked, &limits).unwrap(),
            Some(payload()),
            "{name}"
        );
        assert_eq!(
            png::unbake_stream(baked.as_slice(), &limits).unwrap(),
            Some(payload()),
            "{name}"
        );
        let mut streamed = Vec::new();
        png::bake_stream(bytes.as_slice(), &payload(), &mut streamed, &limits).unwrap();
        assert_eq!(streamed, baked, "{name}: stream and slice bakes differ");
        assert_eq!(
            bake::unbake(&bytes, &limits).unwrap(),
            None,
            "{name} holds no payload before baking"
        );
        // The new chunk sits right after IHDR; the rest is the original.
        let chunk = png::openbadges_chunk(&payload());
        assert_eq!(
            baked,
            [&bytes[..33], &chunk[..], &bytes[33..]].concat(),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 161);
}

#[test]
fn corrupt_pngsuite_images_are_errors_on_every_path() {
    let limits = Limits::default();
    for (name, bytes) in suite().into_iter().filter(|(n, _)| n.starts_with('x')) {
        assert!(
            matches!(
                bake::bake(&bytes, &payload(), &limits),
                Err(Error::Malformed { .. } | Error::UnknownFormat)
            ),
            "{name}"
        );
        let mut out = Vec::new();
        assert!(
            png::bake_stream(bytes.as_slice(), &payload(), &mut out, &limits).is_err(),
            "{name}"
        );
        assert!(png::check(&bytes).is_err(), "{name}");
        // Unbake reads only headers and text chunks: it must not panic, and finds no payload.
        assert!(
            !matches!(bake::unbake(&bytes, &limits), Ok(Some(_))),
            "{name}"
        );
    }
}

#[test]
fn errors_give_offset_and_chunk() {
    let (_, mut bytes) = suite()
        .into_iter()
        .find(|(n, _)| n == "basn0g08.png")
        .unwrap();
    let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap() - 4;
    let crc_at = idat + 8 + u32::from_be_bytes(bytes[idat..idat + 4].try_into().unwrap()) as usize;
    bytes[crc_at] ^= 0xff;
    let err = bake::bake(&bytes, &payload(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("byte {idat}"))
            && err.contains("chunk IDAT")
            && err.contains("CRC mismatch"),
        "{err}"
    );
}

#[test]
fn a_bad_crc_on_any_chunk_is_an_error_including_iend() {
    let image = small_png();
    // The empty IEND's CRC is checked against a constant: it must still catch every bit flip.
    let iend = iend_offset(&image);
    assert_eq!(crc(b"IEND").to_be_bytes(), image[iend + 8..].as_ref());
    for bit in 0..32 {
        let mut bytes = image.clone();
        bytes[iend + 8 + bit / 8] ^= 1 << (bit % 8);
        let err = bake::bake(&bytes, &payload(), &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("byte {iend}")) && err.contains("chunk IEND"),
            "{err}"
        );
    }
    // IHDR too.
    let mut bytes = image.clone();
    bytes[8 + 8 + 13] ^= 0x01;
    let err = bake::bake(&bytes, &payload(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("byte 8") && err.contains("chunk IHDR"),
        "{err}"
    );
}

fn with_chunk(image: &[u8], at: usize, ty: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(ty);
    chunk.extend_from_slice(data);
    let crc = crc(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    [&image[..at], &chunk[..], &image[at..]].concat()
}

fn crc(bytes: &[u8]) -> u32 {
    // CRC-32 (ISO-HDLC), bitwise: an independent implementation for the tests.
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn small_png() -> Vec<u8> {
    std::fs::read(data("pngsuite/basn2c08.png")).unwrap()
}

fn iend_offset(image: &[u8]) -> usize {
    image.len() - 12
}

#[test]
fn finds_payloads_anywhere_and_prefers_the_first() {
    let image = small_png();
    let limits = Limits::default();
    // Legacy tEXt after the image data.
    let late = with_chunk(
        &image,
        iend_offset(&image),
        b"tEXt",
        b"openbadges\0https://x.org/a/1",
    );
    assert_eq!(
        bake::unbake(&late, &limits).unwrap().unwrap().as_str(),
        "https://x.org/a/1"
    );
    // Compressed iTXt.
    let z = miniz_compress(b"{\"id\":\"https://x.org/a/2\"}");
    let mut data = b"openbadges\0\x01\x00en\0OB\0".to_vec();
    data.extend_from_slice(&z);
    let compressed = with_chunk(&image, 33, b"iTXt", &data);
    assert_eq!(
        bake::unbake(&compressed, &limits)
            .unwrap()
            .unwrap()
            .as_str(),
        "{\"id\":\"https://x.org/a/2\"}"
    );
    // First match wins; baking drops every earlier openbadges chunk (iTXt, tEXt, zTXt).
    let both = with_chunk(
        &compressed,
        iend_offset(&compressed),
        b"zTXt",
        b"openbadges\0\0xx",
    );
    let both = with_chunk(
        &both,
        iend_offset(&both),
        b"tEXt",
        b"openbadges\0https://x.org/a/1",
    );
    assert_eq!(
        bake::unbake(&both, &limits).unwrap().unwrap().as_str(),
        "{\"id\":\"https://x.org/a/2\"}"
    );
    let rebaked = bake::bake(&both, &payload(), &limits).unwrap();
    assert_eq!(
        rebaked,
        [
            &image[..33],
            &png::openbadges_chunk(&payload())[..],
            &image[33..]
        ]
        .concat()
    );
    // Other text chunks are kept.
    let other = with_chunk(&image, 33, b"tEXt", b"Title\0hello");
    let baked = bake::bake(&other, &payload(), &limits).unwrap();
    assert!(baked.windows(11).any(|w| w == b"Title\0hello"));
}

fn miniz_compress(bytes: &[u8]) -> Vec<u8> {
    // A stored (uncompressed) zlib stream, built by hand so the test needs no compressor.
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    out.extend_from_slice(&(!(bytes.len() as u16)).to_le_bytes());
    out.extend_from_slice(bytes);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[test]
fn an_openbadges_chunk_with_a_bad_crc_is_an_error_not_data() {
    let image = small_png();
    let mut bad = with_chunk(&image, 33, b"iTXt", b"openbadges\0\0\0\0\0https://x.org/1");
    let crc_at = 33 + 8 + 26;
    bad[crc_at] ^= 1;
    for result in [
        bake::unbake(&bad, &Limits::default()),
        png::unbake_stream(bad.as_slice(), &Limits::default()),
    ] {
        let err = result.unwrap_err().to_string();
        assert!(
            err.contains("CRC mismatch") && err.contains("iTXt") && err.contains("byte 33"),
            "{err}"
        );
    }
}

#[test]
fn limits_are_enforced_before_allocation() {
    let image = small_png();
    let tight = Limits::new(image.len() as u64 - 1, 16);
    assert!(matches!(
        bake::bake(&image, &payload(), &tight),
        Err(Error::LimitExceeded { .. })
    ));
    let loose = Limits::new(1 << 20, 16);
    assert!(matches!(
        bake::bake(&image, &payload(), &loose),
        Err(Error::LimitExceeded { .. })
    ));
    // A text chunk announcing 2 GB: rejected from its length field, nothing allocated.
    let mut huge = image[..33].to_vec();
    huge.extend_from_slice(&0x7fff_0000u32.to_be_bytes());
    huge.extend_from_slice(b"iTXtopenbadges\0");
    assert!(matches!(
        png::unbake_stream(huge.as_slice(), &Limits::default()),
        Err(Error::LimitExceeded { .. })
    ));
    assert!(matches!(
        bake::unbake(&huge, &Limits::default()),
        Err(Error::Malformed { .. })
    ));
    // A zlib bomb inside a compressed iTXt stops at the payload limit.
    let mut data = b"openbadges\0\x01\x00\0\0".to_vec();
    data.extend_from_slice(&miniz_compress(&vec![b'a'; 60_000]));
    let bomb = with_chunk(&image, 33, b"iTXt", &data);
    assert!(matches!(
        bake::unbake(&bomb, &Limits::new(1 << 20, 1000)),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn empty_payload_and_unknown_formats_are_caller_errors() {
    assert!(matches!(Payload::new(""), Err(Error::Misuse(_))));
    assert!(matches!(
        bake::bake(b"GIF89a", &payload(), &Limits::default()),
        Err(Error::UnknownFormat)
    ));
    assert_eq!(
        ImageFormat::detect(b"\xef\xbb\xbf  <svg/>"),
        Some(ImageFormat::Svg)
    );
}

#[test]
fn bake_file_leaves_no_output_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, std::fs::read(data("pngsuite/xcsn0g01.png")).unwrap()).unwrap();
    assert!(bake::bake_file(&bad, &payload(), &out, &Limits::default()).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the input remains"
    );
    bake::bake_file(
        &data("pngsuite/basn0g08.png"),
        &payload(),
        &out,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        bake::unbake(&std::fs::read(&out).unwrap(), &Limits::default()).unwrap(),
        Some(payload())
    );
}

#[test]
fn badge_image_rules() {
    let square = std::fs::read(data("pngsuite/basn2c08.png")).unwrap();
    let info = bake::ImageRules::open_edx().check(&square).unwrap();
    let h = info.png.unwrap();
    assert_eq!(
        (h.width, h.height, h.color_type),
        (32, 32, png::ColorType::Rgb)
    );
    let interlaced = std::fs::read(data("pngsuite/s32i3p04.png")).unwrap();
    assert!(bake::ImageRules::open_edx().check(&interlaced).is_ok());
    // Not square: the 32x32 image with its IHDR height changed (and its CRC fixed).
    let mut oblong = square.clone();
    oblong[20..24].copy_from_slice(&16u32.to_be_bytes());
    let crc = crc(&oblong[12..29]);
    oblong[29..33].copy_from_slice(&crc.to_be_bytes());
    let err = bake::ImageRules::open_edx()
        .check(&oblong)
        .unwrap_err()
        .to_string();
    assert!(err.contains("square") && err.contains("32x16"), "{err}");
    let svg_image = b"<svg xmlns='http://www.w3.org/2000/svg'/>";
    assert!(bake::ImageRules::open_edx().check(svg_image).is_err());
    assert!(bake::ImageRules::png_or_svg().check(svg_image).is_ok());
    let mut big = square.clone();
    big.resize(300 * 1024, 0);
    assert!(bake::ImageRules::open_edx().check(&big).is_err());
}

#[test]
fn svg_fixture_round_trip() {
    let image = std::fs::read(data("badge.svg")).unwrap();
    let baked = bake::bake(&image, &payload(), &Limits::default()).unwrap();
    assert_eq!(
        svg::unbake(&baked, &Limits::default()).unwrap(),
        Some(payload())
    );
}

fn valid_suite() -> Vec<Vec<u8>> {
    suite()
        .into_iter()
        .filter(|(n, _)| !n.starts_with('x'))
        .map(|(_, b)| b)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Bake then unbake returns the payload; baking twice leaves exactly one chunk; bytes
    /// outside the chunk are unchanged.
    #[test]
    fn png_round_trip_and_splice(index in 0usize..161, text in "\\PC{1,300}") {
        prop_assume!(!text.trim().is_empty() && !text.trim().starts_with(['{', '[']));
        let images = valid_suite();
        let image = &images[index % images.len()];
        let p = Payload::new(text).unwrap();
        let limits = Limits::default();
        let once = bake::bake(image, &p, &limits).unwrap();
        prop_assert_eq!(bake::unbake(&once, &limits).unwrap(), Some(p.clone()));
        let twice = bake::bake(&once, &p, &limits).unwrap();
        prop_assert_eq!(&twice, &once);
        let count = twice.windows(15).filter(|w| *w == b"iTXtopenbadges\0").count();
        prop_assert_eq!(count, 1);
        let chunk = png::openbadges_chunk(&p);
        prop_assert_eq!(&once[..33], &image[..33]);
        prop_assert_eq!(&once[33 + chunk.len()..], &image[33..]);
    }

    /// Any SVG payload round-trips, including CDATA terminators and markup characters.
    #[test]
    fn svg_round_trip(body in "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\u{fffe}\\u{ffff}]{0,200}", url in "https://[a-z]{1,10}\\.org/[a-z&<>\"]{0,10}") {
        let image = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>";
        let json = Payload::new(format!("{{\"id\":{},\"x\":{}}}", serde_json::json!(url), serde_json::json!(body))).unwrap();
        let baked = bake::bake(image, &json, &Limits::default()).unwrap();
        prop_assert_eq!(svg::unbake(&baked, &Limits::default()).unwrap(), Some(json));
        let plain = Payload::new(url.clone()).unwrap();
        let baked = bake::bake(image, &plain, &Limits::default()).unwrap();
        let found = svg::unbake(&baked, &Limits::default()).unwrap().unwrap();
        prop_assert_eq!(found.as_str(), url.trim());
    }

    /// Truncated or bit-flipped images never panic and never yield a partial bake.
    #[test]
    fn damaged_images_are_errors_or_faithful(index in 0usize..161, cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>()) {
        let images = valid_suite();
        let image = &images[index % images.len()];
        let limits = Limits::default();
        let truncated = &image[..cut.index(image.len())];
        prop_assert!(bake::bake(truncated, &payload(), &limits).is_err());
        let _ = bake::unbake(truncated, &limits);
        let mut flipped = image.clone();
        let at = flip.index(flipped.len());
        flipped[at] ^= 0x5a;
        let mut streamed = Vec::new();
        let stream = png::bake_stream(flipped.as_slice(), &payload(), &mut streamed, &limits);
        match bake::bake(&flipped, &payload(), &limits) {
            // A flip the CRCs cannot see (none: every byte after the signature is CRC-covered,
            // except a length field that still lines up) must still bake faithfully.
            Ok(baked) => { prop_assert!(stream.is_ok()); prop_assert_eq!(baked, streamed); }
            Err(_) => prop_assert!(stream.is_err()),
        }
        let _ = bake::unbake(&flipped, &limits);
    }
}

/// Images baked by the reference Python bakery (committed, so this runs on any clone).
#[test]
fn reads_what_the_python_reference_bakery_bakes() {
    let limits = Limits::default();
    let json = std::fs::read_to_string(data("interop/payload.json")).unwrap();
    let read = |name: &str| {
        bake::unbake(
            &std::fs::read(data(&format!("interop/{name}"))).unwrap(),
            &limits,
        )
        .unwrap()
        .unwrap()
    };
    assert_eq!(read("py-baked-json.png").as_str(), json);
    assert_eq!(
        read("py-baked-url.png").as_str(),
        "https://lms.example.org/ob/assertions/0001"
    );
    // The Python bakery writes both a verify attribute and a CDATA body; the body wins.
    assert_eq!(read("py-baked-json.svg").as_str(), json);
    // Its PNG output is also a well-formed PNG by our checks.
    assert!(png::check(&std::fs::read(data("interop/py-baked-json.png")).unwrap()).is_ok());
}

/// The payload limit holds for the UTF-8 text a Latin-1 `tEXt` chunk becomes.
#[test]
fn latin1_text_is_limited_after_conversion() {
    let image = small_png();
    let mut data = b"openbadges\0".to_vec();
    data.extend(std::iter::repeat_n(0xe9u8, 600)); // "é" × 600: 1 200 bytes of UTF-8
    let baked = with_chunk(&image, 33, b"tEXt", &data);
    let limits = Limits::new(1 << 20, 1000);
    let err = bake::unbake(&baked, &limits).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                found: 1200,
                limit: 1000,
                ..
            }
        ),
        "{err}"
    );
    let roomy = Limits::new(1 << 20, 1200);
    assert_eq!(
        bake::unbake(&baked, &roomy)
            .unwrap()
            .unwrap()
            .as_str()
            .len(),
        1200
    );
}

#[cfg(unix)]
mod files {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn payload() -> Payload {
        Payload::new("https://x.org/a/1").unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_link_or_a_device_given_as_output_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.png");
        std::fs::write(&input, small_png()).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("out.png");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = bake::bake_file(&input, &payload(), &link, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        for special in ["/dev/null", "/dev/zero"] {
            let err = bake::bake_file(&input, &payload(), Path::new(special), &Limits::default())
                .unwrap_err();
            assert!(err.to_string().contains("regular file"), "{special}: {err}");
            assert!(
                !std::fs::metadata(special).unwrap().is_file(),
                "{special} still a device"
            );
        }
        let folder = dir.path().join("sub");
        std::fs::create_dir(&folder).unwrap();
        assert!(bake::bake_file(&input, &payload(), &folder, &Limits::default()).is_err());
        assert_eq!(entries(dir.path()), ["in.png", "out.png", "sub", "victim"]);
    }

    #[test]
    fn a_replaced_output_keeps_its_permissions_and_a_failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.png");
        std::fs::write(&input, small_png()).unwrap();
        let out = dir.path().join("out.png");
        std::fs::write(&out, b"old").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
        bake::bake_file(&input, &payload(), &out, &Limits::default()).unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(
            bake::unbake(&std::fs::read(&out).unwrap(), &Limits::default())
                .unwrap()
                .unwrap()
                .as_str(),
            "https://x.org/a/1"
        );
        // A bad input: the existing output is untouched, no temporary file is left.
        let bad = dir.path().join("bad.png");
        std::fs::write(&bad, b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let before = std::fs::read(&out).unwrap();
        assert!(bake::bake_file(&bad, &payload(), &out, &Limits::default()).is_err());
        assert_eq!(std::fs::read(&out).unwrap(), before);
        let fresh = dir.path().join("fresh.png");
        assert!(bake::bake_file(&bad, &payload(), &fresh, &Limits::default()).is_err());
        assert_eq!(entries(dir.path()), ["bad.png", "in.png", "out.png"]);
    }

    #[test]
    fn a_missing_output_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.png");
        std::fs::write(&input, small_png()).unwrap();
        let out = dir.path().join("missing/out.png");
        let err = bake::bake_file(&input, &payload(), &out, &Limits::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("missing/out.png") && text.contains("folder"),
            "{text}"
        );
    }

    #[test]
    fn inputs_are_read_up_to_their_limit_and_never_from_devices_or_fifos() {
        let limits = Limits::new(1000, 100);
        for special in ["/dev/zero", "/dev/null"] {
            let err = bake::read_image(Path::new(special), &limits).unwrap_err();
            assert!(err.to_string().contains("regular file"), "{special}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // With no writer, opening it would block forever: it is refused first.
        let err = bake::read_payload(&fifo, &limits).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 1001]).unwrap();
        assert!(matches!(
            bake::read_image(&big, &limits),
            Err(Error::LimitExceeded {
                found: 1001,
                limit: 1000,
                ..
            })
        ));
        assert!(matches!(
            bake::read_payload(&big, &limits),
            Err(Error::LimitExceeded { limit: 100, .. })
        ));
        assert_eq!(
            bake::read_image(&big, &Limits::new(1001, 1)).unwrap().len(),
            1001
        );
    }
}

mod svg_namespaces_and_safety {
    use super::*;

    fn bake_svg(svg: &str) -> Result<String, Error> {
        bake::bake(
            svg.as_bytes(),
            &Payload::new("https://x.org/a/1").unwrap(),
            &Limits::default(),
        )
        .map(|b| String::from_utf8(b).unwrap())
    }

    fn unbake_svg(svg: &str) -> Option<String> {
        bake::unbake(svg.as_bytes(), &Limits::default())
            .unwrap()
            .map(Payload::into_string)
    }

    #[test]
    fn the_assertion_is_found_by_namespace_uri_not_prefix() {
        // Another prefix bound to the Open Badges namespace: found, and replaced when baking.
        let other_prefix = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="http://openbadges.org"><ob:assertion verify="https://x.org/old"/><rect/></svg>"#;
        assert_eq!(
            unbake_svg(other_prefix).as_deref(),
            Some("https://x.org/old")
        );
        let baked = bake_svg(other_prefix).unwrap();
        assert_eq!(baked.matches("assertion ").count(), 1, "{baked}");
        assert!(!baked.contains("x.org/old"), "{baked}");
        assert_eq!(unbake_svg(&baked).as_deref(), Some("https://x.org/a/1"));
        // `openbadges` bound to another namespace: not ours, kept, and ours bound on its element.
        let foreign = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="urn:other"><openbadges:assertion verify="https://x.org/theirs"/></svg>"#;
        assert_eq!(unbake_svg(foreign), None);
        let baked = bake_svg(foreign).unwrap();
        assert!(baked.contains("x.org/theirs"), "{baked}");
        assert!(
            baked.contains(r#"<openbadges:assertion xmlns:openbadges="http://openbadges.org" verify="https://x.org/a/1"/>"#),
            "{baked}"
        );
        assert_eq!(unbake_svg(&baked).as_deref(), Some("https://x.org/a/1"));
        // A default namespace declaration on the element itself.
        let default_ns = r#"<svg xmlns="http://www.w3.org/2000/svg"><assertion xmlns="http://openbadges.org" verify="https://x.org/d"/></svg>"#;
        assert_eq!(unbake_svg(default_ns).as_deref(), Some("https://x.org/d"));
        // The binding ends with its element.
        let scoped = r#"<svg xmlns="http://www.w3.org/2000/svg"><g xmlns:ob="http://openbadges.org"/><ob:assertion xmlns:ob="urn:x" verify="https://x.org/n"/></svg>"#;
        assert_eq!(unbake_svg(scoped), None);
    }

    #[test]
    fn duplicate_attributes_nul_and_other_encodings_are_refused() {
        for (svg, why) in [
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" width="2"/>"#,
                "Duplicate",
            ),
            ("<svg xmlns=\"http://www.w3.org/2000/svg\">\0</svg>", "NUL"),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                "ISO-8859-1; only UTF-8",
            ),
        ] {
            let e = bake_svg(svg).unwrap_err().to_string();
            assert!(e.to_lowercase().contains(&why.to_lowercase()), "{svg}: {e}");
            assert!(bake::unbake(svg.as_bytes(), &Limits::default()).is_err());
        }
        let declared_utf8 =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        assert!(bake_svg(declared_utf8).is_ok());
    }

    #[test]
    fn class_images_that_run_code_or_load_things_are_refused_naming_the_element() {
        let rules = bake::ImageRules::png_or_svg();
        let wrap = |inner: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{inner}</svg>"#
            )
        };
        for (svg, named) in [
            (wrap("<script>alert(1)</script>"), "<script>"),
            (wrap(r#"<rect onclick="alert(1)"/>"#), "onclick of <rect>"),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>"#.to_owned(),
                "onload of <svg>",
            ),
            (
                wrap("<foreignObject><p>hi</p></foreignObject>"),
                "<foreignObject>",
            ),
            (
                wrap(r#"<image href="https://evil.example/x.png"/>"#),
                "href of <image>",
            ),
            (
                wrap(r#"<use xlink:href="https://evil.example/s.svg#a"/>"#),
                "xlink:href of <use>",
            ),
            (
                wrap(r#"<rect style="fill: url(https://evil.example/p)"/>"#),
                "style of <rect>",
            ),
            (
                wrap("<style>@import url(https://evil.example/c.css);</style>"),
                "<style>",
            ),
            (
                r#"<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>"#
                    .to_owned(),
                "DOCTYPE",
            ),
        ] {
            let e = rules.check(svg.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(named), "{svg}: {e}");
        }
        for fine in [
            wrap(
                r##"<defs><linearGradient id="g"/></defs><rect fill="url(#g)"/><use href="#g"/>"##,
            ),
            wrap(r#"<image href="data:image/png;base64,iVBORw0KGgo="/>"#),
        ] {
            assert!(rules.check(fine.as_bytes()).is_ok(), "{fine}");
        }
    }
}
