//! Open Badges 2.0 and 3.0 payloads in one image: each version has its own PNG keyword and
//! SVG element, baking one leaves the other in place, and unbaking says which it found.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

use badgery_bake::{Limits, Payload, Version, bake, png, unbake, unbake_all};

/// A 2×2 RGBA PNG made by the `png` crate (an independent encoder).
fn image() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, 2, 2);
    encoder.set_color(::png::ColorType::Rgba);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[200; 16]).unwrap();
    writer.finish().unwrap();
    out
}

/// The keywords of the image's text chunks, in order, read with the `png` crate.
fn keywords(image: &[u8]) -> Vec<(String, String)> {
    let decoder = ::png::Decoder::new(std::io::Cursor::new(image));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert!(info.compressed_latin1_text.is_empty());
    info.utf8_text
        .iter()
        .map(|t| {
            assert!(
                !t.compressed,
                "OB 3.0 forbids a compressed openbadgecredential"
            );
            (t.keyword.clone(), t.get_text().unwrap())
        })
        .collect()
}

const JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpZCI6InVybjp1dWlkOjEifQ.c2ln";
const JSON: &str = r#"{"id":"urn:uuid:1","type":["VerifiableCredential","OpenBadgeCredential"]}"#;

#[test]
fn png_versions_have_their_own_keyword_and_live_side_by_side() {
    let limits = Limits::default();
    let ob2 = Payload::new("https://lms.example.org/ob/assertions/1").unwrap();
    let ob3 = Payload::credential(JWS).unwrap();
    assert_eq!(ob3.version(), Version::Ob3);
    let only3 = bake(&image(), &ob3, &limits).unwrap();
    assert_eq!(
        keywords(&only3),
        [("openbadgecredential".to_owned(), JWS.to_owned())]
    );
    assert_eq!(unbake(&only3, &limits).unwrap(), Some(ob3.clone()));
    // Baking 2.0 into it keeps the credential; baking 3.0 again replaces only the credential.
    let both = bake(&only3, &ob2, &limits).unwrap();
    let again = bake(&both, &Payload::credential(JSON).unwrap(), &limits).unwrap();
    let found = keywords(&again);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&("openbadgecredential".to_owned(), JSON.to_owned())));
    assert!(found.contains(&("openbadges".to_owned(), ob2.as_str().to_owned())));
    // The first payload in chunk order is the one read, with its version; the streaming
    // reader agrees.
    let first = unbake(&again, &limits).unwrap().unwrap();
    assert_eq!(first.version(), Version::Ob3);
    assert_eq!(first.as_str(), JSON);
    let all = unbake_all(&again, &limits).unwrap();
    assert_eq!(
        all.iter().map(Payload::version).collect::<Vec<_>>(),
        [Version::Ob3, Version::Ob2]
    );
    let streamed = png::unbake_stream(&again[..], &limits).unwrap().unwrap();
    assert_eq!(streamed, first);
    let mut streamed_bake = Vec::new();
    png::bake_stream(&only3[..], &ob2, &mut streamed_bake, &limits).unwrap();
    assert_eq!(streamed_bake, both);
}

#[test]
fn a_compressed_credential_is_refused() {
    // An iTXt chunk with the 3.0 keyword and the compression flag set.
    let text = miniz_oxide::deflate::compress_to_vec_zlib(JWS.as_bytes(), 6);
    let mut data = b"openbadgecredential\0\x01\x00\0\0".to_vec();
    data.extend_from_slice(&text);
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"iTXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32fast::hash(&chunk[4..]).to_be_bytes());
    let plain = image();
    let mut image = plain[..33].to_vec(); // signature and IHDR
    image.extend_from_slice(&chunk);
    image.extend_from_slice(&plain[33..]);
    let e = unbake(&image, &Limits::default()).unwrap_err().to_string();
    assert!(e.contains("compressed"), "{e}");
}

#[test]
fn svg_versions_have_their_own_element_and_namespace() {
    let limits = Limits::default();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>";
    let jwt = bake(svg, &Payload::credential(JWS).unwrap(), &limits).unwrap();
    assert_eq!(
        String::from_utf8(jwt.clone()).unwrap(),
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" \
             xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">\
             <openbadges:credential verify=\"{JWS}\"/><rect/></svg>"
        )
    );
    let json = bake(svg, &Payload::credential(JSON).unwrap(), &limits).unwrap();
    assert!(
        String::from_utf8(json.clone()).unwrap().contains(&format!(
            "<openbadges:credential><![CDATA[{JSON}]]></openbadges:credential>"
        )),
        "a JSON credential goes in CDATA, with no verify attribute"
    );
    let found = unbake(&json, &limits).unwrap().unwrap();
    assert_eq!((found.version(), found.as_str()), (Version::Ob3, JSON));
    // A 2.0 assertion baked beside it binds the prefix to its own namespace on its element.
    let ob2 = Payload::new("https://lms.example.org/ob/assertions/1").unwrap();
    let both = String::from_utf8(bake(&jwt, &ob2, &limits).unwrap()).unwrap();
    assert!(both.contains(
        "<openbadges:assertion xmlns:openbadges=\"http://openbadges.org\" \
         verify=\"https://lms.example.org/ob/assertions/1\"/>"
    ));
    assert!(both.contains(&format!("<openbadges:credential verify=\"{JWS}\"/>")));
    let replaced = bake(
        both.as_bytes(),
        &Payload::credential(JSON).unwrap(),
        &limits,
    )
    .unwrap();
    let replaced = String::from_utf8(replaced).unwrap();
    assert_eq!(
        replaced.matches("openbadges:credential").count(),
        2,
        "one element"
    );
    assert_eq!(replaced.matches("<openbadges:assertion").count(), 1);
    let all = unbake_all(replaced.as_bytes(), &limits).unwrap();
    assert_eq!(
        all.iter().map(Payload::version).collect::<Vec<_>>(),
        [Version::Ob3, Version::Ob2]
    );
    // A credential element under a prefix bound to the 2.0 namespace is not a credential.
    let wrong = "<svg xmlns:openbadges=\"http://openbadges.org\"><openbadges:credential verify=\"x.y.z\"/></svg>";
    assert_eq!(unbake(wrong.as_bytes(), &limits).unwrap(), None);
}
