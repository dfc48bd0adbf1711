// Types of the parla package (hand-written; the implementation is src/index.js).

/** A URL, or the bytes of a file. */
export type Source = string | URL | ArrayBuffer | ArrayBufferView | Blob;

/** A voice: the URL of its `.onnx` (the `.onnx.json` beside it), or both files. */
export type VoiceSpec = string | URL | { onnx: Source; json: Source };

export interface Progress {
  url: string;
  /** "voice model" or "voice config". */
  what: string;
  loaded: number;
  /** 0 when the server did not say. */
  total: number;
  /** Read from the Cache API. */
  cached?: boolean;
}

export type Engine = 'wasm' | 'wasm-messageport' | 'server';

export interface ParlaOptions {
  /** Default: "/voices/en_US-joe-medium.onnx". */
  voice?: VoiceSpec;
  /** Expected hex SHA-256 of the `.onnx` (or of both files). */
  sha256?: string | { onnx?: string; json?: string };
  onProgress?: (p: Progress) => void;
  /** "auto" (default): "wasm" on cross-origin isolated pages, else "wasm-messageport"; "server" without WebAssembly. */
  engine?: 'auto' | Engine;
  /** Base URL of a Parla server for the "server" engine (default: this page's origin). */
  server?: string;
  /** Keep voices in the Cache API (default true). */
  cache?: boolean;
  /** Decoder chunking in frames; each field left out takes the core's default (first 8, size 64, context 24). */
  chunk?: { first?: number; size?: number; context?: number };
  /** Capacity of the frame ring, in 10 ms frames (default 128). */
  ringFrames?: number;
  /** Play into this context instead of a new one. */
  audioContext?: AudioContext;
  /** Run the engine once in the background after loading, so the first speech starts as fast as later ones (default true). */
  warmup?: boolean;
  /**
   * On cross-origin isolated pages, prepare the voice's encoder in a second worker while the first
   * prepares its decoder: ready in about three quarters of the time, for a second instance of the engine
   * (about 70 MB more memory for the default voice; default true).
   */
  encoderWorker?: boolean;
}

export interface SpeakOptions {
  /** Speaking rate multiplier (default 1). */
  speed?: number;
  /** Speaker id or name (multi-speaker voices). */
  speaker?: number | string;
  /** Output gain (default 1). */
  volume?: number;
  /** Seed of the voice's noise: the same seed gives the same audio. */
  seed?: number;
  noiseScale?: number;
  noiseW?: number;
  lengthScale?: number;
}

/** A word or sentence reached, on the audio clock (fired when the worklet plays its first sample). */
export interface Boundary {
  name: 'word' | 'sentence';
  /** The written word (or sentence) as in the text given. */
  text: string;
  /** UTF-16 index into the text given; null when it could not be placed. */
  charIndex: number | null;
  charLength: number | null;
  /** First sample of the word in the speech (voice rate). */
  sample: number;
  endSample: number;
  /** Seconds from the start of the speech. */
  elapsedTime: number;
  segment: number;
  index: number;
}

export interface SpeechResult {
  id: number;
  cancelled: boolean;
  /** speak() to the first audible sample rendered, in ms. */
  ttfaMs: number | null;
  /** Synthesis time over audio time. */
  rtf: number | null;
  /** Levels of what the worklet rendered. */
  peak?: number;
  rms?: number;
  rendered?: number;
}

export class SpeechHandle extends EventTarget {
  readonly id: number;
  readonly text: string;
  readonly state: 'pending' | 'playing' | 'ended' | 'cancelled' | 'failed';
  readonly ttfaMs: number | null;
  /** The worker's time for the first chunk (its clause's G2P, encoder and first decoder pulse), in ms. */
  readonly firstChunkMs: number | null;
  /** Where the first audible sample was in the speech's audio (leading quiet before it), in samples. */
  readonly firstAudibleSample: number | null;
  readonly rtf: number | null;
  /** Resolves when the last sample was played (or on cancel); rejects on failure. */
  readonly done: Promise<SpeechResult>;
  on(type: 'start', fn: (d: { id: number; time: number }) => void): this;
  on(type: 'boundary', fn: (d: Boundary) => void): this;
  on(type: 'end', fn: (d: SpeechResult) => void): this;
  on(type: 'error', fn: (d: { message: string }) => void): this;
  /** Stops now: queued audio is dropped within a render quantum. */
  cancel(): void;
}

/** Text spoken as it arrives (LLM tokens). */
export class SpeechStream extends SpeechHandle {
  write(piece: string): this;
  /** No more text; resolves like `done`. */
  end(): Promise<SpeechResult>;
}

export interface Pcm {
  samples: Float32Array;
  sampleRate: number;
  events: Array<{ type: 'segment' | 'word'; segment: number; index: number; text: string; start: number; end: number; from?: number; to?: number }>;
  /** Synthesis time, ms. */
  ms: number;
  toWav(): Blob;
}

export interface Metrics {
  engine: Engine;
  ttfa_ms: number | null;
  rtf: number | null;
  underruns: number;
  voice_ready_ms: number | null;
  [k: string]: unknown;
}

export interface Parla extends EventTarget {
  readonly engine: Engine;
  readonly sampleRate: number;
  readonly speakers?: number;
  readonly speakerNames?: string[];
  readonly context: AudioContext;
  /** Resolves once the background warm-up ran (ms), or with null when it was skipped. */
  readonly warm: Promise<number | null>;
  speak(text: string, options?: SpeakOptions): SpeechHandle;
  stream(options?: SpeakOptions): SpeechStream;
  synthesize(text: string, options?: SpeakOptions): Promise<Pcm>;
  phonemize(text: string): Promise<string>;
  cancelAll(): void;
  metrics(): Metrics;
  workletStats(): Promise<{ underruns: number; lastAudibleTime: number | null; time: number }>;
  close(): Promise<void>;
}

export const DEFAULT_VOICE: string;
export function createParla(options?: ParlaOptions): Promise<Parla>;
export function listServerVoices(server?: string): Promise<Array<{ name: string; url: string }>>;
export function clearVoiceCache(): Promise<void>;
export function sha256(bytes: ArrayBuffer | ArrayBufferView): Promise<string | null>;
export function encodeWav(samples: Float32Array, sampleRate: number): ArrayBuffer;
export function wavBlob(samples: Float32Array, sampleRate: number): Blob;
