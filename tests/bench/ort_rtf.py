"""onnxruntime reference for `parla bench`: the original Piper voice, one thread.

Reads JSON on stdin: {"onnx": path, "ids": [[...], ...], "runs": N, "scales": [ns, ls, nw]}.
Prints JSON: {"load_s": seconds to create the session, "rtf": median real-time factor}.
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    req = json.load(sys.stdin)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    t = time.perf_counter()
    sess = ort.InferenceSession(req["onnx"], opts, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t
    names = {i.name for i in sess.get_inputs()}
    scales = np.array(req["scales"], dtype=np.float32)

    def one_pass() -> tuple[float, int]:
        t = time.perf_counter()
        samples = 0
        for ids in req["ids"]:
            feed = {
                "input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64),
                "scales": scales,
            }
            if "sid" in names:
                feed["sid"] = np.array([0], dtype=np.int64)
            samples += sess.run(None, feed)[0].size
        return time.perf_counter() - t, samples

    one_pass()  # warm-up
    times = []
    for _ in range(max(1, req["runs"])):
        elapsed, samples = one_pass()
        times.append(elapsed)
    times.sort()
    # Piper voices are 22 050 Hz or 16 000 Hz; the config says which.
    with open(req["onnx"] + ".json", encoding="utf-8") as f:
        rate = json.load(f)["audio"]["sample_rate"]
    print(json.dumps({"load_s": load_s, "rtf": times[len(times) // 2] / (samples / rate)}))


if __name__ == "__main__":
    main()
