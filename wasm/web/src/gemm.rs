//! Tests of the core's matrix kernel for wasm (`parla_core::infer::kernel`) where it runs: in
//! Node and Chromium through `wasm-pack test`. The wasmtime host runs the same kernel; its
//! `ort_match` test compares the whole voice with onnxruntime.

#[cfg(all(test, target_arch = "wasm32", target_feature = "simd128"))]
mod tests {
    use parla_core::infer::kernel::{dyn_kernel, COLS, NAME, ROWS};
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::ops::einsum::EinSum;
    use tract_onnx::tract_core::ops::matmul::optimized::OptMatMul;
    use tract_onnx::tract_core::tract_linalg::mmm::{FusedKerSpec, MatMatMulKer, OutputStoreKer};
    use tract_onnx::tract_core::tract_linalg::MmmDispatch;
    use wasm_bindgen_test::*;

    fn kernel(m: usize, k: usize, n: usize) -> String {
        let mmm = MmmDispatch::native().preferred_kernel(DatumType::F32, Some(m), Some(k), Some(n)).expect("a kernel");
        mmm.name().to_string()
    }

    #[wasm_bindgen_test]
    fn matrix_products_run_the_kernel_that_fits_in_the_registers() {
        // The decoder's convolutions: 192 or more channels over a pulse of frames.
        assert_eq!(kernel(192, 1344, 27), NAME);
        assert_eq!(kernel(64, 64, 8), NAME);
        // Matrix-vector products and products of fewer rows than the tile keep tract's choice.
        assert_ne!(kernel(192, 192, 1), NAME);
        assert_ne!(kernel(2, 64, 64), NAME);
    }

    /// The kernels tract's optimiser wires into a product of constant weights (`m`×`k`) and an
    /// input whose width `n` is known only when it runs, as in the encoder's plan for any length.
    fn kernels_for_any_width(m: usize, k: usize) -> Vec<String> {
        let mut model = TypedModel::default();
        let n = model.symbols.sym("n");
        let weights = model.add_const("w", Tensor::zero::<f32>(&[m, k]).unwrap()).unwrap();
        let input = model.add_source("x", f32::fact([TDim::from(k), TDim::from(n)])).unwrap();
        let product = EinSum::new("mk,kn->mn".parse().unwrap(), f32::datum_type());
        let out = model.wire_node("product", product, &[weights, input]).unwrap();
        model.select_output_outlets(&out).unwrap();
        let model = model.into_optimized().unwrap();
        let products: Vec<&OptMatMul> = model.nodes.iter().filter_map(|node| node.op_as::<OptMatMul>()).collect();
        assert_eq!(products.len(), 1, "one matrix product in the plan");
        products[0].mmm.iter().map(|mmm| mmm.name().to_string()).collect()
    }

    #[wasm_bindgen_test]
    fn products_of_any_width_run_the_kernel_that_fits_in_the_registers() {
        // The encoder's projections and convolutions: 192 channels or more over the phonemes.
        assert_eq!(kernels_for_any_width(192, 576), [NAME]);
        assert_eq!(kernels_for_any_width(768, 576), [NAME]);
    }

    /// Small integers in [-8, 8], scaled: every product and sum is exact, so any order agrees.
    fn values(n: usize, seed: u32, scale: f32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((s >> 16) % 17) as f32 * scale - 8.0 * scale
            })
            .collect()
    }

    #[wasm_bindgen_test]
    fn the_kernel_computes_a_fused_tile() {
        let k = 37;
        let a = values(ROWS * k, 1, 0.25); // packed: k steps of ROWS values
        let b = values(k * COLS, 2, 0.5); // packed: k steps of COLS values
        let bias = values(ROWS, 3, 1.0);
        let col_scale = values(COLS, 4, 0.5);
        let residual = values(ROWS * COLS, 5, 1.0); // column-major, so read lane by lane
        let mut out = vec![f32::NAN; ROWS * COLS * 2]; // row-major with a gap after each row
        let mut out_cm = vec![f32::NAN; ROWS * COLS]; // column-major
        let store = |ptr: *mut f32, row: usize, col: usize| OutputStoreKer {
            ptr: ptr as *mut u8,
            row_byte_stride: (row * 4) as isize,
            col_byte_stride: (col * 4) as isize,
            item_size: 4,
        };
        let program = [
            FusedKerSpec::Clear,
            FusedKerSpec::AddMatMul { k, pa: a.as_ptr() as *const u8, pb: b.as_ptr() as *const u8, packing: 0 },
            FusedKerSpec::PerRowAdd(bias.as_ptr()),
            FusedKerSpec::PerColMul(col_scale.as_ptr()),
            FusedKerSpec::AddUnicast(store(residual.as_ptr() as *mut f32, 1, ROWS)),
            FusedKerSpec::LeakyRelu(0.5),
            FusedKerSpec::ScalarMax(-20.0),
            FusedKerSpec::Store(store(out.as_mut_ptr(), 2 * COLS, 1)),
            FusedKerSpec::Store(store(out_cm.as_mut_ptr(), 1, ROWS)),
            FusedKerSpec::Done,
        ];
        assert_eq!(dyn_kernel().kernel(&program), 0);
        for r in 0..ROWS {
            for c in 0..COLS {
                let mut x = (0..k).map(|i| a[i * ROWS + r] * b[i * COLS + c]).sum::<f32>();
                x = (x + bias[r]) * col_scale[c] + residual[c * ROWS + r];
                x = if x > 0.0 { x } else { 0.5 * x };
                x = x.max(-20.0);
                assert_eq!(out[r * 2 * COLS + c], x, "row {r} col {c}");
                assert_eq!(out_cm[c * ROWS + r], x, "row {r} col {c} (column-major)");
            }
            assert!(out[r * 2 * COLS + COLS..(r + 1) * 2 * COLS].iter().all(|v| v.is_nan()), "row {r} wrote past its columns");
        }
    }

    #[wasm_bindgen_test]
    fn an_output_that_is_not_f32_is_refused() {
        let mut out = [0u16; ROWS * COLS];
        let tile =
            OutputStoreKer { ptr: out.as_mut_ptr() as *mut u8, row_byte_stride: 2 * COLS as isize, col_byte_stride: 2, item_size: 2 };
        assert_eq!(dyn_kernel().kernel(&[FusedKerSpec::Clear, FusedKerSpec::Store(tile), FusedKerSpec::Done]), 1);
    }
}
