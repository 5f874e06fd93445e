/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums where the time went: self time per function, self time per
 * package / source folder, and inclusive ("total") time of the functions under a path of interest.
 *
 *   node dist/bench/cpuprofile-summary.js FILE.cpuprofile [--top 30] [--focus /dist/edge/]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type Share = { name: string; ms: number; percent: number };
export type ProfileSummary = {
  totalMs: number;
  /** time not idle: what the process actually spent on the CPU */
  busyMs: number;
  selfByFunction: Share[];
  selfByModule: Share[];
  totalByFunction: Share[];
};

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (SPECIAL.has(name)) return name;
  const where = shortUrl(frame.url);
  return where ? `${name} ${where}:${frame.lineNumber + 1}` : `${name} (native)`;
}

/** node_modules package, `node:` internals, or the project's folder (edge/broker, edge/devices, …). */
function moduleKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (SPECIAL.has(name)) return name;
  const url = frame.url;
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return url
      .slice(dist + '/dist/'.length)
      .split('/')
      .slice(0, 2)
      .join('/');
  return url;
}

/** Time per sample: V8 stores the delta *before* each sample; the next delta is how long that sample lasted. */
function sampleDurations(profile: CpuProfile): number[] {
  const n = profile.samples.length;
  return profile.samples.map((_, i) => (i + 1 < n ? (profile.timeDeltas[i + 1] ?? 0) : 0) / 1000);
}

function toShares(map: Map<string, number>, totalMs: number): Share[] {
  return [...map.entries()].map(([name, ms]) => ({ name, ms, percent: (ms / totalMs) * 100 })).sort((a, b) => b.ms - a.ms);
}

/** Only samples taken between `fromUs` and `toUs` (V8 profile clock: CLOCK_MONOTONIC in µs, as process.hrtime). */
export type SampleWindow = { fromUs: number; toUs: number };

export function summarize(profile: CpuProfile, focus = '/dist/edge/', window?: SampleWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const durations = sampleDurations(profile);

  const selfByFunction = new Map<string, number>();
  const selfByModule = new Map<string, number>();
  const totalByFunction = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    const ms = durations[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    const fKey = functionKey(node.callFrame);
    selfByFunction.set(fKey, (selfByFunction.get(fKey) ?? 0) + ms);
    const mKey = moduleKey(node.callFrame);
    selfByModule.set(mKey, (selfByModule.get(mKey) ?? 0) + ms);
    // inclusive time: every distinct function of the focus path on this sample's stack
    const seen = new Set<string>();
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const frame = byId.get(up)?.callFrame;
      if (!frame || !frame.url.includes(focus)) continue;
      const key = functionKey(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      totalByFunction.set(key, (totalByFunction.get(key) ?? 0) + ms);
    }
  });
  const busyMs = totalMs - idleMs;
  return {
    totalMs,
    busyMs,
    selfByFunction: toShares(selfByFunction, busyMs),
    selfByModule: toShares(selfByModule, busyMs),
    totalByFunction: toShares(totalByFunction, busyMs),
  };
}

export async function summarizeFile(file: string, focus?: string, window?: SampleWindow): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  // a window outside the profile's clock range (another clock) would leave nothing: then take the whole profile
  const usable = window && window.fromUs >= profile.startTime && window.toUs <= profile.endTime ? window : undefined;
  return summarize(profile, focus, usable);
}

export function renderSummary(summary: ProfileSummary, top = 30): string {
  const table = (title: string, rows: Share[]) =>
    [
      `${title}`,
      ...rows.slice(0, top).map((r) => `  ${r.percent.toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`),
    ].join('\n');
  return [
    `profile: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(summary.busyMs / 1000).toFixed(1)} s busy ` +
      '(percentages are of busy time)',
    table(
      'self time by function:',
      summary.selfByFunction.filter((r) => r.name !== '(idle)'),
    ),
    table(
      'self time by package / folder:',
      summary.selfByModule.filter((r) => r.name !== '(idle)'),
    ),
    table('total (inclusive) time of gateway functions:', summary.totalByFunction),
  ].join('\n\n');
}

// as a command: summarise a file
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!file) {
    console.error('usage: node dist/bench/cpuprofile-summary.js FILE.cpuprofile [--top N] [--focus PATH]');
    process.exit(2);
  }
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  console.log(renderSummary(await summarizeFile(file, option('--focus')), Number(option('--top') ?? 30)));
}
