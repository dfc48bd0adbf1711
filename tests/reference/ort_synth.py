"""onnxruntime reference synthesis for Parla's tests (a test oracle, never part of Parla).

Reads JSON on stdin: {"onnx": path, "ids": [[...], ...], "scales": [ns, ls, nw], "out": dir,
"sid": speaker (optional, for multi-speaker voices)}.
For utterance i, writes the audio as little-endian f32 to <out>/<i>.f32 and prints one line of
comma-separated durations (the model's ceiled frame counts per phoneme id).
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main() -> None:
    req = json.load(sys.stdin)
    model = onnx.load(req["onnx"])
    ceil = [n for n in model.graph.node if n.op_type == "Ceil"]
    assert len(ceil) == 1, "expected one Ceil node (the durations)"
    model.graph.output.append(onnx.ValueInfoProto(name=ceil[0].output[0]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    for i, ids in enumerate(req["ids"]):
        feed = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array(req["scales"], dtype=np.float32),
        }
        if "sid" in names:
            feed["sid"] = np.array([req.get("sid", 0)], dtype=np.int64)
        audio, durations = sess.run(None, feed)
        audio.astype("<f4").tofile(f"{req['out']}/{i}.f32")
        print(",".join(str(int(d)) for d in durations.reshape(-1)))


if __name__ == "__main__":
    main()
