"""Makes a multi-speaker variant of a single-speaker Piper voice, for Parla's tests.

Usage: python3 make_multispeaker.py SRC.onnx DEST.onnx SPEAKERS

The variant takes a `sid` input like real multi-speaker Piper voices. Speaker s shifts the audio
by a constant s / 100 (through a per-speaker embedding gathered by `sid`), so a test can tell
exactly which speaker was synthesized. The config gets `num_speakers` and a `speaker_id_map`.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main() -> None:
    src, dest, speakers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = onnx.load(src)
    g = model.graph
    # Some exports name a weight "sid"; the input must not collide with it.
    for t in g.initializer:
        if t.name == "sid":
            t.name = "test_renamed_weight"
            for n in g.node:
                n.input[:] = ["test_renamed_weight" if i == "sid" else i for i in n.input]
    g.input.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    emb = np.arange(speakers, dtype=np.float32).reshape(speakers, 1) / 100.0
    g.initializer.append(numpy_helper.from_array(emb, "test_emb_g.weight"))
    producer = next(n for n in g.node if "output" in n.output)
    producer.output[list(producer.output).index("output")] = "test_output_single"
    g.node.extend([
        helper.make_node("Gather", ["test_emb_g.weight", "sid"], ["test_g"], name="/test_emb_g/Gather"),
        helper.make_node("Add", ["test_output_single", "test_g"], ["output"], name="/test_speaker_shift"),
    ])
    onnx.save(model, dest)
    with open(src + ".json", encoding="utf-8") as f:
        config = json.load(f)
    config["num_speakers"] = speakers
    config["speaker_id_map"] = {f"speaker{i}": i for i in range(speakers)}
    with open(dest + ".json", "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
