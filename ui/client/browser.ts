// The browser APIs the islands use, typed minimally here so that server-side type checks need no DOM
// lib (which would change Deno's own stream and timer types for the whole program).

/** An element with data attributes. */
export interface ElementLike {
  dataset: Record<string, string | undefined>;
}

/** A Web Audio node. */
export interface AudioNodeLike {
  connect(node: AudioNodeLike): void;
}

/** PCM held by the audio context. */
export interface AudioBufferLike {
  readonly duration: number;
  getChannelData(channel: number): Float32Array;
}

/** A one-shot player of an AudioBuffer. */
export interface AudioBufferSourceLike extends AudioNodeLike {
  buffer: AudioBufferLike | null;
  onended: (() => void) | null;
  start(when?: number): void;
  stop(): void;
}

/** A microphone stream. */
export interface MediaStreamLike {
  getTracks(): { stop(): void }[];
}

/** The audio context. */
export interface AudioContextLike {
  readonly currentTime: number;
  readonly sampleRate: number;
  readonly destination: AudioNodeLike;
  readonly audioWorklet: { addModule(url: string): Promise<void> };
  createBuffer(channels: number, length: number, sampleRate: number): AudioBufferLike;
  createBufferSource(): AudioBufferSourceLike;
  createMediaStreamSource(stream: MediaStreamLike): AudioNodeLike;
  close(): Promise<void>;
}

/** A node running an AudioWorkletProcessor. */
export interface AudioWorkletNodeLike extends AudioNodeLike {
  readonly port: MessagePort;
}

/** The globals of a browser page that the islands use. */
export interface BrowserGlobals {
  AudioContext: new (opts?: { sampleRate?: number }) => AudioContextLike;
  AudioWorkletNode: new (
    ctx: AudioContextLike,
    name: string,
    opts?: { numberOfInputs?: number; numberOfOutputs?: number },
  ) => AudioWorkletNodeLike;
  navigator: { mediaDevices: { getUserMedia(constraints: unknown): Promise<MediaStreamLike> } };
  location: { protocol: string; host: string };
  document: { querySelectorAll(selector: string): Iterable<ElementLike> };
}

/** The page's globals (only meaningful in a browser). */
export const browser = globalThis as unknown as BrowserGlobals;
