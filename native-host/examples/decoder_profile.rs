//! Times the decoder plan op by op for one window length (development aid).
//! Usage: cargo run --release -p parla-host --example decoder_profile -- VOICE.onnx [FRAMES]
//! Prints the time per run and per frame, the ops that take the time, and the slowest nodes
//! (with the matrix kernel tract chose).
use std::time::{Duration, Instant};
use std::collections::HashMap;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::SimpleState;
use prost::Message;

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1])?;
    let frames: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(64);
    run(&bytes, frames)
}

fn run(bytes: &[u8], frames: usize) -> TractResult<()> {
    let proto = tract_onnx::pb::ModelProto::decode(bytes)?;
    let halves = parla_core::infer::surgery::split(proto).unwrap();
    let mut dec = tract_onnx::onnx().with_ignore_output_shapes(true).with_ignore_output_types(true).with_ignore_value_info(true).model_for_proto_model(&halves.decoder)?;
    dec.set_input_fact(0, f32::fact([1, 192, frames]).into())?;
    dec.set_input_fact(1, f32::fact([1, 1, frames]).into())?;
    let t0 = Instant::now();
    let dec = dec.into_optimized()?;
    eprintln!("optimise {:?}", t0.elapsed());
    let runnable = dec.into_runnable()?;
    let plan = SimpleState::new(&runnable)?;
    let mut state = plan;
    let z = Tensor::from(tract_ndarray::Array3::<f32>::from_shape_fn((1, 192, frames), |(_, c, t)| ((c * 7 + t * 3) % 11) as f32 * 0.1 - 0.5));
    let m = Tensor::from(tract_ndarray::Array3::<f32>::from_elem((1, 1, frames), 1.0));
    for _ in 0..2 { state.run(tvec![z.clone().into(), m.clone().into()])?; }
    let runs = 5;
    let t0 = Instant::now();
    for _ in 0..runs { state.run(tvec![z.clone().into(), m.clone().into()])?; }
    let per = t0.elapsed() / runs;
    eprintln!("{frames} frames: {:?} per run, {:.3} ms/frame", per, per.as_secs_f64() * 1e3 / frames as f64);
    let mut by_op: HashMap<String, (Duration, usize)> = HashMap::new();
    let mut by_node: Vec<(Duration, String)> = vec![];
    for _ in 0..runs {
        state.run_plan_with_eval(tvec![z.clone().into(), m.clone().into()], |session, op_state, node, input| {
            let t = Instant::now();
            let r = tract_onnx::tract_core::plan::eval(session, op_state, node, input);
            let e = t.elapsed();
            let key = node.op.name().to_string();
            let ent = by_op.entry(key).or_default();
            ent.0 += e; ent.1 += 1;
            by_node.push((e, format!("{} {} {:?} {:?}", node.op.name(), node.name, node.outputs[0].fact.shape, node.op.info().unwrap_or_default())));
            r
        })?;
    }
    let mut v: Vec<_> = by_op.into_iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1.0));
    for (k, (d, n)) in v.iter().take(15) { eprintln!("{:>10.2} ms {:>5}  {k}", d.as_secs_f64() * 1e3 / runs as f64, n / runs as usize); }
    by_node.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (d, n) in by_node.iter().take(25) { eprintln!("{:>8.2} ms  {n}", d.as_secs_f64() * 1e3); }
    Ok(())
}
