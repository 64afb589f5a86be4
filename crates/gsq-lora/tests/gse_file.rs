//! The GSE-native adapter file: bit-exact round trips and every kind of malformed file.

mod common;

use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn_gsq::{GseFormat, GsqDevice, PrecisionPolicy};
use common::*;
use gsq_lora::{
    GSE_MAGIC, GseAdapter, LoraConfig, LoraError, LoraLinear, gse_blocks_of, gse_lora_a_name,
    gse_lora_b_name, gsq_blocks, gsq_from_blocks, load_gse, save_gse,
};

fn layers<B: Backend>(device: &B::Device) -> Vec<(String, LoraLinear<B>)> {
    (0..3)
        .map(|i| {
            let d_out = [8, 16, 5][i];
            let layer = randomize_b(
                layer::<B>(16, d_out, &config(), i as u64, device),
                50 + i as u64,
            );
            (format!("model.layers.{i}.self_attn.q_proj"), layer)
        })
        .collect()
}

fn fresh<B: Backend>(device: &B::Device) -> Vec<(String, LoraLinear<B>)> {
    (0..3)
        .map(|i| {
            let d_out = [8, 16, 5][i];
            (
                format!("model.layers.{i}.self_attn.q_proj"),
                layer::<B>(16, d_out, &config(), 99, device),
            )
        })
        .collect()
}

fn refs<B: Backend>(layers: &[(String, LoraLinear<B>)]) -> Vec<(String, &LoraLinear<B>)> {
    layers.iter().map(|(n, l)| (n.clone(), l)).collect()
}

fn muts<B: Backend>(layers: &mut [(String, LoraLinear<B>)]) -> Vec<(String, &mut LoraLinear<B>)> {
    layers.iter_mut().map(|(n, l)| (n.clone(), l)).collect()
}

fn file_bytes<B: Backend>(device: &B::Device) -> Vec<u8> {
    let src = layers::<B>(device);
    GseAdapter::from_layers(&config(), &refs(&src))
        .unwrap()
        .to_bytes()
}

#[test]
fn round_trip_ndarray_is_exact_f32_at_exact_format() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let adapter = GseAdapter::from_layers(&config(), &refs(&src)).unwrap();
    assert!(
        adapter
            .tensors
            .iter()
            .all(|t| t.blocks.format() == GseFormat::EXACT)
    );
    let bytes = adapter.to_bytes();
    assert_eq!(bytes[..8], GSE_MAGIC);
    let back = GseAdapter::from_bytes(&bytes).unwrap();
    assert_eq!(back.tensors, adapter.tensors);
    assert_eq!(back.config.rank, 4);
    assert_eq!(back.config.alpha, 8.0);
    assert_eq!(back.config.target_modules, ["q_proj", "v_proj"]);
    let mut dst = fresh::<Nd>(&device);
    back.apply(&mut muts(&mut dst)).unwrap();
    for ((_, a), (_, b)) in src.iter().zip(&dst) {
        assert_eq!(bits(a.lora_a.val()), bits(b.lora_a.val()));
        assert_eq!(bits(a.lora_b.val()), bits(b.lora_b.val()));
    }
}

/// On Gsq the file holds the blocks as stored, and loading restores them bit for bit.
fn gsq_round_trip(device: &GsqDevice, stream: GseFormat) {
    let src = layers::<Gq>(device);
    let path = std::env::temp_dir().join(format!(
        "gsq-lora-{}-{}.gsqlora",
        stream.mantissa_bits(),
        std::process::id()
    ));
    save_gse(&path, &config(), &refs(&src)).unwrap();
    let mut dst = fresh::<Gq>(device);
    let adapter = load_gse(&path, &mut muts(&mut dst)).unwrap();
    std::fs::remove_file(&path).unwrap();
    for ((name, a), (_, b)) in src.iter().zip(&dst) {
        let (sa, sb) = (gsq_blocks(&a.lora_a.val()), gsq_blocks(&a.lora_b.val()));
        assert_eq!(sa.format(), stream);
        let file_a = adapter
            .tensors
            .iter()
            .find(|t| t.name == gse_lora_a_name(name))
            .unwrap();
        let file_b = adapter
            .tensors
            .iter()
            .find(|t| t.name == gse_lora_b_name(name))
            .unwrap();
        assert_eq!(file_a.blocks, sa, "file differs from stored blocks");
        assert_eq!(file_b.blocks, sb);
        assert_eq!(
            gsq_blocks(&b.lora_a.val()),
            sa,
            "{name}: A blocks not restored"
        );
        assert_eq!(
            gsq_blocks(&b.lora_b.val()),
            sb,
            "{name}: B blocks not restored"
        );
        assert_eq!(
            file_a.blocks.mantissa_bytes(),
            gsq_blocks(&b.lora_a.val()).mantissa_bytes()
        );
    }
}

#[test]
fn round_trip_gsq_paper_blocks_are_bit_exact() {
    gsq_round_trip(&GsqDevice::default(), GseFormat::STREAM16);
}

#[test]
fn round_trip_gsq_exact_blocks_are_bit_exact() {
    gsq_round_trip(&GsqDevice::exact(), GseFormat::EXACT);
}

#[test]
fn round_trip_gsq_grouped_stream_blocks_are_bit_exact() {
    // A stream format with shared exponents (INT8, groups of 32) round-trips too.
    let device = GsqDevice::new(PrecisionPolicy::PAPER.with_stream(GseFormat::INT8));
    gsq_round_trip(&device, GseFormat::INT8);
}

/// After real AdamW steps on Autodiff<Gsq> the trained adapter's blocks survive bit for bit.
#[test]
fn trained_autodiff_gsq_adapter_round_trips_bit_exact() {
    let device = GsqDevice::default();
    let mut layer = layer::<AdGq>(16, 8, &config(), 4, &device);
    let mut optim = AdamWConfig::new().init();
    for step in 0..3 {
        let x = tensor::<AdGq, 2>([6, 16], step, &device);
        let y = tensor::<AdGq, 2>([6, 8], step + 10, &device);
        let loss = (layer.forward(x) - y).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &layer);
        layer = optim.step(1e-2, layer, grads);
    }
    let a_blocks = gse_blocks_of(&layer.lora_a.val()).expect("Autodiff<Gsq> has blocks");
    let b_blocks = gse_blocks_of(&layer.lora_b.val()).unwrap();
    let bytes = GseAdapter::from_layers(&config(), &[("l".into(), &layer)])
        .unwrap()
        .to_bytes();
    let mut dst = self::layer::<AdGq>(16, 8, &config(), 5, &device);
    GseAdapter::from_bytes(&bytes)
        .unwrap()
        .apply(&mut [("l".into(), &mut dst)])
        .unwrap();
    assert_eq!(gse_blocks_of(&dst.lora_a.val()).unwrap(), a_blocks);
    assert_eq!(gse_blocks_of(&dst.lora_b.val()).unwrap(), b_blocks);
    assert!(dst.lora_a.is_require_grad());
    // NdArray tensors have no blocks.
    assert!(gse_blocks_of(&tensor::<Nd, 2>([2, 2], 1, &Default::default())).is_none());
}

#[test]
fn gsq_from_blocks_is_strict() {
    let paper = GsqDevice::default();
    let t = tensor::<Gq, 2>([3, 5], 1, &paper);
    let blocks = gsq_blocks(&t);
    let back = gsq_from_blocks(&blocks, [3, 5], &paper).unwrap();
    assert_eq!(gsq_blocks(&back), blocks);
    // A transposed view comes back as contiguous blocks of the transposed values.
    let tt = gsq_blocks(&t.clone().transpose());
    assert_eq!(tt.len(), 15);
    assert_eq!(
        bits(gsq_from_blocks(&tt, [5, 3], &paper).unwrap()),
        bits(t.transpose())
    );
    // Wrong element count, wrong device format.
    assert!(matches!(
        gsq_from_blocks(&blocks, [4, 4], &paper),
        Err(LoraError::ElementCount { .. })
    ));
    let err = gsq_from_blocks(&blocks, [3, 5], &GsqDevice::exact()).unwrap_err();
    assert!(matches!(err, LoraError::NotBitExact { .. }), "{err}");
    // Non-canonical blocks (a zero with a non-minimal scale) are refused, not silently changed.
    let mut odd = gse::encode_f32(
        GseFormat::STREAM16,
        &[0.0, 1.0],
        gse::Rounding::NearestEven,
        gse::SpecialPolicy::Error,
    )
    .unwrap()
    .0;
    odd.scale_bytes_mut()[0] = 100;
    let err = gsq_from_blocks(&odd, [2], &paper).unwrap_err();
    assert!(matches!(err, LoraError::NotBitExact { .. }), "{err}");
}

#[test]
fn truncated_at_every_offset_is_an_error() {
    let bytes = file_bytes::<Nd>(&Default::default());
    for cut in 0..bytes.len() {
        let err = GseAdapter::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(
                err,
                LoraError::Truncated { .. } | LoraError::Checksum { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = file_bytes::<Gq>(&GsqDevice::default());
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            assert!(
                GseAdapter::from_bytes(&b).is_err(),
                "flip {mask:#x} at {i} accepted"
            );
        }
    }
    let mut b = bytes.clone();
    b.push(0);
    assert!(
        GseAdapter::from_bytes(&b).is_err(),
        "trailing byte accepted"
    );
}

#[test]
fn bad_magic_and_version() {
    let bytes = file_bytes::<Nd>(&Default::default());
    let mut b = bytes.clone();
    b[0] = b'X';
    assert!(matches!(
        GseAdapter::from_bytes(&b),
        Err(LoraError::BadMagic)
    ));
    assert!(matches!(
        GseAdapter::from_bytes(b"PK\x03\x04"),
        Err(LoraError::BadMagic)
    ));
    assert!(matches!(
        GseAdapter::from_bytes(b""),
        Err(LoraError::Truncated { .. })
    ));
    let mut b = bytes.clone();
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        GseAdapter::from_bytes(&b),
        Err(LoraError::UnsupportedVersion {
            found: 2,
            supported: 1
        })
    ));
}

/// Structurally wrong files with a valid checksum: each field lies in turn.
mod forged {
    use super::*;

    /// A one-tensor file, with hooks to lie about fields; the checksum is recomputed.
    struct Forge {
        rank: u64,
        alpha: f64,
        targets: Vec<Vec<u8>>,
        target_count: Option<u32>,
        tensor_count: Option<u32>,
        name: Vec<u8>,
        dims: Vec<u64>,
        ndims: Option<u32>,
        bits: u8,
        group: u32,
        len: u64,
        mantissa_len: Option<u64>,
        mantissas: Vec<u8>,
        scale_len: Option<u64>,
        scales: Vec<u8>,
        extra: Vec<u8>,
    }

    impl Forge {
        /// 2x3 values at INT8/g4: 6 mantissa bytes, 2 scales.
        fn new() -> Self {
            Self {
                rank: 4,
                alpha: 8.0,
                targets: vec![b"q_proj".to_vec()],
                target_count: None,
                tensor_count: None,
                name: b"t".to_vec(),
                dims: vec![2, 3],
                ndims: None,
                bits: 8,
                group: 4,
                len: 6,
                mantissa_len: None,
                mantissas: vec![1, 2, 3, 0xfd, 5, 6],
                scale_len: None,
                scales: vec![127, 130],
                extra: vec![],
            }
        }

        fn bytes(&self) -> Vec<u8> {
            let mut o = GSE_MAGIC.to_vec();
            o.extend(1u32.to_le_bytes());
            o.extend(self.rank.to_le_bytes());
            o.extend(self.alpha.to_bits().to_le_bytes());
            o.extend(0f64.to_bits().to_le_bytes());
            o.extend(
                self.target_count
                    .unwrap_or(self.targets.len() as u32)
                    .to_le_bytes(),
            );
            for t in &self.targets {
                o.extend((t.len() as u32).to_le_bytes());
                o.extend(t);
            }
            o.extend(self.tensor_count.unwrap_or(1).to_le_bytes());
            o.extend((self.name.len() as u32).to_le_bytes());
            o.extend(&self.name);
            o.extend(self.ndims.unwrap_or(self.dims.len() as u32).to_le_bytes());
            for d in &self.dims {
                o.extend(d.to_le_bytes());
            }
            o.push(self.bits);
            o.extend(self.group.to_le_bytes());
            o.extend(self.len.to_le_bytes());
            o.extend(
                self.mantissa_len
                    .unwrap_or(self.mantissas.len() as u64)
                    .to_le_bytes(),
            );
            o.extend(&self.mantissas);
            o.extend(
                self.scale_len
                    .unwrap_or(self.scales.len() as u64)
                    .to_le_bytes(),
            );
            o.extend(&self.scales);
            o.extend(&self.extra);
            let crc = crc32fast::hash(&o);
            o.extend(crc.to_le_bytes());
            o
        }

        fn err(&self) -> LoraError {
            GseAdapter::from_bytes(&self.bytes()).unwrap_err()
        }
    }

    #[test]
    fn the_honest_forge_parses() {
        let a = GseAdapter::from_bytes(&Forge::new().bytes()).unwrap();
        assert_eq!(a.tensors.len(), 1);
        assert_eq!(a.tensors[0].shape, [2, 3]);
        assert_eq!(a.tensors[0].blocks.mantissa(3), -3);
        assert_eq!(a.tensors[0].blocks.scale(1), 3);
    }

    #[test]
    fn counts_and_lengths_beyond_the_file() {
        let f = Forge {
            target_count: Some(u32::MAX),
            ..Forge::new()
        };
        assert!(
            matches!(f.err(), LoraError::Truncated { .. }),
            "{}",
            f.err()
        );
        let f = Forge {
            tensor_count: Some(1000),
            ..Forge::new()
        };
        assert!(
            matches!(f.err(), LoraError::Truncated { .. }),
            "{}",
            f.err()
        );
        let f = Forge {
            targets: vec![],
            target_count: Some(0),
            name: vec![],
            ..Forge::new()
        };
        let mut b = f.bytes();
        // Name length claims 4 GiB.
        let name_at = 8 + 4 + 24 + 4 + 4;
        b[name_at..name_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let n = b.len() - 4;
        let crc = crc32fast::hash(&b[..n]);
        b[n..].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            GseAdapter::from_bytes(&b),
            Err(LoraError::Truncated { .. })
        ));
        let f = Forge {
            mantissa_len: Some(u64::MAX),
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            scale_len: Some(3),
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            scales: vec![127],
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            extra: vec![0],
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
    }

    #[test]
    fn shapes_and_element_counts_must_agree() {
        let f = Forge {
            len: 7,
            ..Forge::new()
        };
        assert!(
            matches!(
                f.err(),
                LoraError::ElementCount {
                    expected: 6,
                    found: 7,
                    ..
                }
            ),
            "{}",
            f.err()
        );
        let f = Forge {
            dims: vec![u64::MAX, 3],
            len: 6,
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            dims: vec![1 << 62, 1 << 62],
            len: 6,
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            ndims: Some(9),
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        // One dimension more than written: the fields after it shift; caught, not a checksum.
        let f = Forge {
            ndims: Some(3),
            ..Forge::new()
        };
        assert!(
            !matches!(f.err(), LoraError::Checksum { .. }),
            "{}",
            f.err()
        );
        // A huge element count whose mantissas are not in the file.
        let f = Forge {
            dims: vec![1 << 40],
            len: 1 << 40,
            mantissa_len: Some(1 << 40),
            ..Forge::new()
        };
        assert!(
            matches!(f.err(), LoraError::Truncated { .. }),
            "{}",
            f.err()
        );
    }

    #[test]
    fn formats_mantissas_names_and_config_are_checked() {
        let f = Forge {
            bits: 26,
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Format { .. }), "{}", f.err());
        let f = Forge {
            group: 3,
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Format { .. }), "{}", f.err());
        // -128 is outside INT8's symmetric range.
        let f = Forge {
            mantissas: vec![0x80, 0, 0, 0, 0, 0],
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Storage { .. }), "{}", f.err());
        let f = Forge {
            name: vec![0xff, 0xfe],
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            targets: vec![vec![0xc3]],
            ..Forge::new()
        };
        assert!(matches!(f.err(), LoraError::Corrupt(_)), "{}", f.err());
        let f = Forge {
            rank: 0,
            ..Forge::new()
        };
        assert!(
            matches!(f.err(), LoraError::InvalidConfig(_)),
            "{}",
            f.err()
        );
        let f = Forge {
            alpha: f64::NAN,
            ..Forge::new()
        };
        assert!(
            matches!(f.err(), LoraError::InvalidConfig(_)),
            "{}",
            f.err()
        );
        // Two tensors of the same name.
        let mut f = Forge::new();
        f.tensor_count = Some(2);
        let one = f.bytes();
        let start = 8 + 4 + 24 + 4 + 4 + 6 + 4;
        let tensor = one[start..one.len() - 4].to_vec();
        let mut b = one[..one.len() - 4].to_vec();
        b.extend(&tensor);
        let crc = crc32fast::hash(&b);
        b.extend(crc.to_le_bytes());
        assert!(matches!(
            GseAdapter::from_bytes(&b),
            Err(LoraError::Corrupt(_))
        ));
    }
}

#[test]
fn apply_checks_names_and_shapes() {
    let device = Default::default();
    let src = layers::<Nd>(&device);
    let adapter = GseAdapter::from_layers(&config(), &refs(&src)).unwrap();
    let mut dst = fresh::<Nd>(&device);
    dst.pop();
    let err = adapter.apply(&mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::UnexpectedTensor(_)), "{err}");
    let mut dst = fresh::<Nd>(&device);
    dst[2].0 = "elsewhere".into();
    let err = adapter.apply(&mut muts(&mut dst)).unwrap_err();
    assert!(
        matches!(err, LoraError::MissingTensor(ref n) if n == "elsewhere.lora_a"),
        "{err}"
    );
    let mut dst = fresh::<Nd>(&device);
    dst[2].1 = layer::<Nd>(16, 6, &config(), 1, &device);
    let err = adapter.apply(&mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::ShapeMismatch { .. }), "{err}");
    let mut dst = fresh::<Nd>(&device);
    dst[2].1 = layer::<Nd>(16, 5, &LoraConfig::new().with_rank(2), 1, &device);
    let err = adapter.apply(&mut muts(&mut dst)).unwrap_err();
    assert!(matches!(err, LoraError::Layer { .. }), "{err}");
    let err = load_gse::<Nd>("/nonexistent/x.gsqlora", &mut []).unwrap_err();
    assert!(matches!(err, LoraError::Io { .. }), "{err}");
}
