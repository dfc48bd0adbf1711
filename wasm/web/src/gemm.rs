//! Which matrix-multiply kernel the browser build runs.
//!
//! tract's wasm tier runs every f32 matrix product (n > 1) with its 8×8 kernel. That kernel
//! keeps 16 SIMD accumulators. On x86-64, V8 has 16 vector registers in all, so its optimising
//! tier spills part of the tile to the stack on every step of the inner loop. Those spill slots
//! are 16 bytes wide, but V8 does not align them to 16 bytes: where they land depends on how
//! deep the JavaScript stack was when it called the module.
//!
//! When a slot straddles a cache line, or worse a 4 KiB page, every step of the inner loop pays
//! for a split store and a split load. Measured in Chromium 156 with `perf` on the package's
//! worker: the same machine code ran the first chunk of "Hello there, …" in 460 ms when called
//! from `speak`. It ran in 210 ms when called from `synthesize`, whose stack is 56 bytes
//! deeper. The profile put a quarter of the kernel's time on the instruction after a spill
//! store that crossed a page.
//!
//! The 4×4 kernel keeps 4 accumulators and never spills, so its speed does not depend on where
//! the stack is. In the same run of `tests/web/bench.mjs`:
//! - speak() → first audible sample fell from 499 / 549 ms (p50 / p95) to 259 / 296 ms;
//! - browser RTF stayed within noise (0.549 → 0.553 whole, 0.565 → 0.571 streaming).
//!
//! What it costs where the 8×8 kernel's frame lands well: in Node 20 (an older V8), chunks take
//! 10–15% longer with the 4×4 kernel.
//!
//! The tier applies to the browser build only. The wasmtime host builds the other wasm crate and
//! keeps tract's 8×8 kernel: under Cranelift the 4×4 kernel made `parla bench`'s wasm engine
//! much slower (RTF 0.574 → 0.802 whole, TTFA 177 → 265 ms, same session).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod tier {
    use tract_onnx::prelude::DatumType;
    use tract_onnx::tract_core::tract_linalg::isa::{Arch, IsaSet};
    use tract_onnx::tract_core::tract_linalg::mmm::{Query, Suitable};
    use tract_onnx::tract_core::tract_linalg::mmm_tiers::MmmTier;

    /// The kernel every f32 matrix product with more than one column runs in the browser.
    pub(crate) const GEMM_F32: &str = "wasm_f32_4x4";

    /// Matrix-vector products (n = 1) and other accumulators are left to tract's own tier.
    fn preferred(_: &IsaSet, accumulator: DatumType, query: &Query, _: &[Suitable]) -> Option<&'static str> {
        match (accumulator, query.n) {
            (DatumType::F32, Some(1)) => None,
            (DatumType::F32, _) => Some(GEMM_F32),
            _ => None,
        }
    }

    // tract asks the tiers of an architecture in descending precedence; its own wasm tier is 1.
    inventory::submit! {
        MmmTier { arch: Some(Arch::Wasm32Simd128), precedence: 2, name: "parla-browser", applies: |_| true, preferred }
    }
}

#[cfg(all(test, target_arch = "wasm32", target_feature = "simd128"))]
mod tests {
    use tract_onnx::prelude::DatumType;
    use tract_onnx::tract_core::tract_linalg::MmmDispatch;
    use wasm_bindgen_test::*;

    fn kernel(m: usize, k: usize, n: usize) -> String {
        let mmm = MmmDispatch::native().preferred_kernel(DatumType::F32, Some(m), Some(k), Some(n)).expect("a kernel");
        mmm.name().to_string()
    }

    #[wasm_bindgen_test]
    fn matrix_products_run_the_kernel_that_does_not_spill() {
        // The decoder's convolutions: 192 or more channels over a pulse of frames.
        assert_eq!(kernel(192, 1344, 27), super::tier::GEMM_F32);
        assert_eq!(kernel(64, 64, 8), super::tier::GEMM_F32);
        // Matrix-vector products keep tract's choice.
        assert_ne!(kernel(192, 192, 1), super::tier::GEMM_F32);
    }
}
