//! Bake and unbake of PNG images of 1 KB, 250 KB and 5 MB, each next to the baseline that
//! gives it meaning, measured in the same run: copying the same bytes and computing their
//! CRC-32 (what any baker that checks the image must at least do).
//!
//! `cargo bench --bench bake`; results and ratios in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use badgery::bake::{Limits, Payload, png};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// An RGB PNG of random noise (which does not compress) of about `target` bytes, written by
/// the `png` crate with its default chunking.
fn noise_png(target: usize) -> Vec<u8> {
    let side = ((target as f64 / 3.0).sqrt() as u32).max(4);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, side, side);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_compression(::png::Compression::Fastest);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// The (start, end) of the type and data of every chunk: the bytes each CRC covers.
fn chunk_spans(image: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 8;
    while pos + 12 <= image.len() {
        let len = u32::from_be_bytes(image[pos..pos + 4].try_into().unwrap()) as usize;
        spans.push((pos + 4, pos + 8 + len));
        pos += 12 + len;
    }
    spans
}

fn payload() -> Payload {
    Payload::new(include_str!(
        "../crates/bake/tests/data/interop/payload.json"
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let payload = payload();
    let mut group = c.benchmark_group("png");
    for (label, size) in [("1KB", 1_000), ("250KB", 250_000), ("5MB", 5_000_000)] {
        let image = noise_png(size);
        // Kept for timing the reference bakers on the same file (see BENCHMARKS.md).
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench_images");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(format!("noise-{label}.png")), &image);
        }
        let baked = png::bake(&image, &payload, &limits).unwrap();
        // The same chunk placed before IEND, after all the image data, as some bakers do.
        let chunk = png::openbadges_chunk(&payload);
        let iend = image.len() - 12;
        let late = [&image[..iend], &chunk[..], &image[iend..]].concat();
        group.throughput(Throughput::Bytes(image.len() as u64));
        // Copy and checksum the input, and (what a bake must write) the output's bytes.
        for (name, bytes) in [
            ("baseline_copy_crc", &image),
            ("baseline_copy_crc_output", &baked),
        ] {
            group.bench_with_input(BenchmarkId::new(name, label), bytes, |b, bytes| {
                b.iter(|| {
                    let copy = black_box(bytes.as_slice()).to_vec();
                    black_box(crc32fast::hash(&copy));
                    copy
                });
            });
        }
        // The least work a checking baker does: copy the output's bytes and compute the CRC
        // of every input chunk and of the new chunk (one CRC call each, as the format requires).
        let chunk_spans = chunk_spans(&image);
        group.bench_with_input(
            BenchmarkId::new("floor_chunk_crcs_copy_output", label),
            &image,
            |b, image| {
                b.iter(|| {
                    let image = black_box(image.as_slice());
                    let mut out = Vec::with_capacity(image.len() + chunk.len());
                    // The signature and IHDR (8 + 25 bytes), the new chunk, the rest.
                    out.extend_from_slice(&image[..33]);
                    out.extend_from_slice(&chunk);
                    out.extend_from_slice(&image[33..]);
                    for &(start, end) in &chunk_spans {
                        black_box(crc32fast::hash(&image[start..end]));
                    }
                    black_box(crc32fast::hash(&chunk[4..chunk.len() - 4]));
                    out
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("bake", label), &image, |b, image| {
            b.iter(|| png::bake(black_box(image), &payload, &limits).unwrap());
        });
        group.bench_with_input(
            BenchmarkId::new("bake_stream", label),
            &image,
            |b, image| {
                b.iter(|| {
                    let mut out = Vec::with_capacity(image.len() + 1024);
                    png::bake_stream(black_box(image.as_slice()), &payload, &mut out, &limits)
                        .unwrap();
                    out
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("unbake", label), &baked, |b, baked| {
            b.iter(|| png::unbake(black_box(baked), &limits).unwrap());
        });
        group.bench_with_input(
            BenchmarkId::new("unbake_after_image_data", label),
            &late,
            |b, late| {
                b.iter(|| png::unbake(black_box(late), &limits).unwrap());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("baseline_copy", label),
            &image,
            |b, image| {
                b.iter(|| black_box(image.as_slice()).to_vec());
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
