//! A matrix-multiplication kernel for tract in WebAssembly that fits in 16 vector registers.
//!
//! Most wasm runs on x86-64, where wasmtime's Cranelift and V8 alike have 16 vector registers.
//! tract's f32 GEMM kernel for wasm (`wasm_f32_8x8`) keeps a tile of 16 `v128` accumulators, so
//! there 12 of them live on the stack, and each step of its inner loop loads and stores them
//! again. This kernel computes a 4×8 tile: 8 accumulators, one vector of the packed left-hand side
//! with its four lanes broadcast, and two vectors of the right-hand side, 15 registers at most.
//! Each output element sums its products in the same order as tract's kernels, so the audio is
//! bit-identical.
//!
//! - **wasmtime:** the decoder runs about 15% faster than with the 8×8 kernel (`parla bench`, wasm
//!   engine: RTF 0.37 → 0.32 whole, 0.28 → 0.24 chunked; the first chunk of "Sure," 78 → 64 ms).
//! - **V8:** spilling is worse there, because V8 does not align its 16-byte spill slots. Where a
//!   slot lands depends on how deep the JavaScript stack was when it called the module, and a
//!   slot across a cache line or a page makes every step pay for split loads and stores: the
//!   same machine code ran a first chunk in 460 ms from `speak` and in 210 ms from `synthesize`.
//!   A kernel that does not spill runs at the same speed from anywhere.
//!
//! The multiply-adds stay a multiply and an add even where `relaxed-simd` is available: Cranelift
//! writes a fused multiply-add over one of the factors, not the accumulator, which costs register
//! copies every step, and in a measurement the fused build was no faster.
//!
//! The kernel joins tract's registry of matrix kernels, and a dispatch tier above tract's own wasm
//! tier names it for every f32 matrix product with more than one column and at least four rows;
//! matrix-vector products stay with tract's kernels.
//!
//! A product whose width is known only when it runs (the encoder's plan for any number of
//! phonemes) never reaches the tiers: tract keeps the kernels of the highest preference and, among
//! those, the group that shares the widest packing, which would be its 8×8 and 8×1. The kernel
//! therefore also declares a preference one above tract's wasm kernels, which leaves it alone in
//! that choice. The gain is small, as the encoder's products are short: in wasmtime, the encoder of a
//! 109-id clause took 57–58 ms instead of 59–60 (p50 of 30, two interleaved rounds), and that of a
//! 13-id clause 14 ms either way; the audio is bit-identical.

use core::arch::wasm32::*;
use tract_onnx::prelude::DatumType;
use tract_onnx::tract_core::tract_linalg::isa::{Arch, IsaSet};
use tract_onnx::tract_core::tract_linalg::mmm::{DynKernel, FusedKerSpec, OutputStoreKer, Query, Suitable};
use tract_onnx::tract_core::tract_linalg::mmm_routines::MmmRoutine;
use tract_onnx::tract_core::tract_linalg::mmm_tiers::MmmTier;
use tract_onnx::tract_core::tract_linalg::pack::Packing;
use tract_onnx::tract_core::tract_linalg::Scaler;

/// Rows of the tile (the left-hand side's, packed `ROWS` per step).
pub const ROWS: usize = 4;
/// Columns of the tile (the right-hand side's, two vectors per step).
pub const COLS: usize = 8;
/// The kernel's name in tract's registry.
pub const NAME: &str = "parla_wasm_f32_4x8";

/// The accumulators: row `r`, columns 0–3 in `[r][0]` and 4–7 in `[r][1]`.
type Tile = [[v128; 2]; ROWS];

/// `acc + a × b`.
#[inline(always)]
fn madd(acc: v128, a: v128, b: v128) -> v128 {
    f32x4_add(acc, f32x4_mul(a, b))
}

/// Applies `f` to every accumulator.
#[inline(always)]
fn each(tile: &mut Tile, f: impl Fn(v128) -> v128) {
    for row in tile.iter_mut() {
        row[0] = f(row[0]);
        row[1] = f(row[1]);
    }
}

/// Applies `f(value of the row, accumulator)` with one value per row, read from `values`.
#[inline(always)]
unsafe fn per_row(tile: &mut Tile, values: *const f32, f: impl Fn(v128, v128) -> v128) {
    for (r, row) in tile.iter_mut().enumerate() {
        let s = f32x4_splat(unsafe { *values.add(r) });
        row[0] = f(s, row[0]);
        row[1] = f(s, row[1]);
    }
}

/// Applies `f(values of the columns, accumulator)` with one value per column, read from `values`.
#[inline(always)]
unsafe fn per_col(tile: &mut Tile, values: *const f32, f: impl Fn(v128, v128) -> v128) {
    let (lo, hi) = unsafe { (v128_load(values as *const v128), v128_load(values.add(4) as *const v128)) };
    for row in tile.iter_mut() {
        row[0] = f(lo, row[0]);
        row[1] = f(hi, row[1]);
    }
}

/// Reads row `r` of an f32 tile laid out with the strides of `at`.
#[inline(always)]
unsafe fn read_row(at: &OutputStoreKer, r: usize) -> [v128; 2] {
    unsafe {
        let p = at.ptr.offset(at.row_byte_stride * r as isize);
        if at.col_byte_stride == 4 {
            return [v128_load(p as *const v128), v128_load(p.add(16) as *const v128)];
        }
        let x = |c: isize| *(p.offset(at.col_byte_stride * c) as *const f32);
        [f32x4(x(0), x(1), x(2), x(3)), f32x4(x(4), x(5), x(6), x(7))]
    }
}

/// Writes `row` as row `r` of an f32 tile laid out with the strides of `at`.
#[inline(always)]
unsafe fn write_row(at: &OutputStoreKer, r: usize, row: [v128; 2]) {
    unsafe {
        let p = at.ptr.offset(at.row_byte_stride * r as isize);
        if at.col_byte_stride == 4 {
            v128_store(p as *mut v128, row[0]);
            v128_store(p.add(16) as *mut v128, row[1]);
            return;
        }
        let lanes: [f32; COLS] = core::mem::transmute(row);
        for (c, v) in lanes.into_iter().enumerate() {
            *(p.offset(at.col_byte_stride * c as isize) as *mut f32) = v;
        }
    }
}

/// Lane `r` of `v` in every lane.
#[inline(always)]
fn broadcast(v: v128, r: usize) -> v128 {
    match r {
        0 => i32x4_shuffle::<0, 0, 0, 0>(v, v),
        1 => i32x4_shuffle::<1, 1, 1, 1>(v, v),
        2 => i32x4_shuffle::<2, 2, 2, 2>(v, v),
        _ => i32x4_shuffle::<3, 3, 3, 3>(v, v),
    }
}

/// `tile += A × B` over `k` steps of the packed panels: `ROWS` values of A and `COLS` of B a step.
#[inline(always)]
unsafe fn add_mat_mul(tile: &mut Tile, k: usize, pa: *const u8, pb: *const u8) {
    let (mut a, mut b) = (pa as *const v128, pb as *const v128);
    for _ in 0..k {
        unsafe {
            let (av, lo, hi) = (v128_load(a), v128_load(b), v128_load(b.add(1)));
            for (r, row) in tile.iter_mut().enumerate() {
                let s = broadcast(av, r);
                row[0] = madd(row[0], s, lo);
                row[1] = madd(row[1], s, hi);
            }
            a = a.add(1);
            b = b.add(2);
        }
    }
}

/// The kernel: runs tract's fused micro-program over one `ROWS`×`COLS` tile. Returns 0, or 1 for
/// an instruction it cannot run (an output that is not f32, a packing it does not have).
unsafe fn kernel(program: &[FusedKerSpec<f32>]) -> isize {
    let zero = f32x4_splat(0.0);
    let mut t: Tile = [[zero; 2]; ROWS];
    for op in program {
        // SAFETY (for every arm): tract hands the kernel pointers to tiles, rows and panels of
        // the sizes this kernel declared (ROWS, COLS and its one packing).
        unsafe {
            match *op {
                FusedKerSpec::Done => break,
                FusedKerSpec::Clear => t = [[zero; 2]; ROWS],
                FusedKerSpec::LoadTile(_, row_major) => {
                    for (r, row) in t.iter_mut().enumerate() {
                        let p = row_major.add(r * COLS) as *const v128;
                        *row = [v128_load(p), v128_load(p.add(1))];
                    }
                }
                FusedKerSpec::ScalarMin(m) => each(&mut t, |v| f32x4_pmin(v, f32x4_splat(m))),
                FusedKerSpec::ScalarMax(m) => each(&mut t, |v| f32x4_pmax(v, f32x4_splat(m))),
                FusedKerSpec::ScalarAdd(m) => each(&mut t, |v| f32x4_add(f32x4_splat(m), v)),
                FusedKerSpec::ScalarMul(m) => each(&mut t, |v| f32x4_mul(f32x4_splat(m), v)),
                FusedKerSpec::ScalarSub(m) => each(&mut t, |v| f32x4_sub(f32x4_splat(m), v)),
                FusedKerSpec::ScalarSubF(m) => each(&mut t, |v| f32x4_sub(v, f32x4_splat(m))),
                FusedKerSpec::LeakyRelu(alpha) => each(&mut t, |v| v128_bitselect(v, f32x4_mul(f32x4_splat(alpha), v), f32x4_gt(v, zero))),
                FusedKerSpec::PerRowMin(p) => per_row(&mut t, p, |s, v| f32x4_pmin(v, s)),
                FusedKerSpec::PerRowMax(p) => per_row(&mut t, p, |s, v| f32x4_pmax(v, s)),
                FusedKerSpec::PerRowAdd(p) => per_row(&mut t, p, |s, v| f32x4_add(s, v)),
                FusedKerSpec::PerRowMul(p) => per_row(&mut t, p, |s, v| f32x4_mul(s, v)),
                FusedKerSpec::PerRowSub(p) => per_row(&mut t, p, |s, v| f32x4_sub(s, v)),
                FusedKerSpec::PerRowSubF(p) => per_row(&mut t, p, |s, v| f32x4_sub(v, s)),
                FusedKerSpec::PerColMin(p) => per_col(&mut t, p, |s, v| f32x4_pmin(v, s)),
                FusedKerSpec::PerColMax(p) => per_col(&mut t, p, |s, v| f32x4_pmax(v, s)),
                FusedKerSpec::PerColAdd(p) => per_col(&mut t, p, |s, v| f32x4_add(s, v)),
                FusedKerSpec::PerColMul(p) => per_col(&mut t, p, |s, v| f32x4_mul(s, v)),
                FusedKerSpec::PerColSub(p) => per_col(&mut t, p, |s, v| f32x4_sub(s, v)),
                FusedKerSpec::PerColSubF(p) => per_col(&mut t, p, |s, v| f32x4_sub(v, s)),
                FusedKerSpec::QScale(shift, policy, mult) => {
                    let s = Scaler::from_fuse_params(shift, policy, mult).scale;
                    each(&mut t, |v| f32x4_mul(f32x4_splat(s), v))
                }
                FusedKerSpec::RoundingShiftRight(shift, _) => each(&mut t, |v| f32x4_mul(f32x4_splat(2f32.powi(-(shift as i32))), v)),
                FusedKerSpec::ShiftLeft(shift) => each(&mut t, |v| f32x4_mul(f32x4_splat(2f32.powi(shift as i32)), v)),
                FusedKerSpec::AddUnicast(other) => {
                    if other.item_size != 4 {
                        return 1;
                    }
                    for (r, row) in t.iter_mut().enumerate() {
                        let o = read_row(&other, r);
                        *row = [f32x4_add(row[0], o[0]), f32x4_add(row[1], o[1])];
                    }
                }
                FusedKerSpec::AddRowColProducts(rows, cols) => {
                    let (lo, hi) = (v128_load(cols as *const v128), v128_load(cols.add(4) as *const v128));
                    for (r, row) in t.iter_mut().enumerate() {
                        let s = f32x4_splat(*rows.add(r));
                        *row = [madd(row[0], s, lo), madd(row[1], s, hi)];
                    }
                }
                FusedKerSpec::Store(tile) => {
                    if tile.item_size != 4 {
                        return 1;
                    }
                    for (r, row) in t.iter().enumerate() {
                        write_row(&tile, r, *row);
                    }
                }
                FusedKerSpec::AddMatMul { k, pa, pb, packing } => {
                    if packing != 0 {
                        return 1;
                    }
                    add_mat_mul(&mut t, k, pa, pb)
                }
            }
        }
    }
    0
}

/// The kernel as tract describes one: its tile, its packings, the architecture it is for, and a
/// preference above tract's wasm kernels (see the module's docs).
pub fn dyn_kernel() -> DynKernel<ROWS, COLS, f32> {
    let mut k = DynKernel::new(NAME, kernel, f32::packing(ROWS), f32::packing(COLS)).with_boost(|| 1);
    k.arch = Some(Arch::Wasm32Simd128);
    k
}

/// Names this kernel for f32 matrix products of more than one column with at least `ROWS` rows.
fn preferred(_: &IsaSet, acc: DatumType, query: &Query, _: &[Suitable]) -> Option<&'static str> {
    (acc == DatumType::F32 && query.n != Some(1) && query.m.is_none_or(|m| m >= ROWS)).then_some(NAME)
}

inventory::submit! { MmmRoutine { make: || dyn_kernel().mmm() } }

inventory::submit! {
    MmmTier { arch: Some(Arch::Wasm32Simd128), precedence: 2, name: "parla-16-registers", applies: |_| true, preferred }
}
