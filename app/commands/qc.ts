/**
 * `tom qc FILE.wav [--json]`: the audio quality of a WAV file (a call recording, a test tone) per
 * channel, with a verdict. Exit 0 when every check passes, 1 when one fails, 2 when the file cannot be
 * read as WAV. In TOM's call recordings the left channel is the caller, the right one TOM.
 *
 * @module
 */
import { analyseWav, type QcReport } from "../qc_report.ts";
import { WavReadError } from "../../gateway/mod.ts";

/** Exit codes of `tom qc`. */
export const QC_EXIT = { pass: 0, fail: 1, unreadable: 2 } as const;

/** Run `tom qc`; returns the exit code. */
export async function qcMain(args: { file: string; json: boolean }): Promise<number> {
  if (!args.file) {
    console.error("tom qc: expected a WAV file\n\nUsage: tom qc FILE.wav [--json]");
    return QC_EXIT.unreadable;
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(args.file);
  } catch (e) {
    console.error(`tom qc: cannot read ${args.file}: ${e instanceof Error ? e.message : String(e)}`);
    return QC_EXIT.unreadable;
  }
  let report: QcReport;
  try {
    report = analyseWav(bytes);
  } catch (e) {
    if (!(e instanceof WavReadError)) throw e;
    console.error(`tom qc: ${args.file} is not a readable WAV file: ${e.message}`);
    return QC_EXIT.unreadable;
  }
  console.log(
    args.json ? JSON.stringify({ file: args.file, ...report }, null, 2) : formatReport(args.file, report),
  );
  return report.pass ? QC_EXIT.pass : QC_EXIT.fail;
}

/** The report as text: one line per channel, then the verdict with the failed checks. */
export function formatReport(file: string, r: QcReport): string {
  const lines = [`${file}: ${r.sampleRate} Hz, ${r.channels} channel(s), ${r.durationSeconds.toFixed(2)} s`];
  for (const c of r.channelReports) {
    lines.push(
      `  ${(c.channel + ":").padEnd(11)} RMS ${c.rms.toFixed(1).padStart(7)}  clipping ${
        (c.clippingRatio * 100).toFixed(3)
      }%  DC offset ${c.dcOffset.toFixed(1).padStart(6)}  SNR ${c.snrDb.toFixed(1).padStart(5)} dB  ${
        c.pass ? "ok" : "FAIL"
      }`,
    );
  }
  lines.push(r.pass ? "Verdict: PASS" : `Verdict: FAIL\n${r.failures.map((f) => `  - ${f}`).join("\n")}`);
  return lines.join("\n");
}
