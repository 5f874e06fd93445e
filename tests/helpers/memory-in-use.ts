import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MB = 1024 * 1024;

/** A full collection on demand (vitest's fork has no --expose-gc: the flag is set at run time, as V8 allows). */
export function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Megabytes the process holds for JavaScript objects and for Buffers (a socket's unsent data is Buffers), after a full
 * collection: what a leak grows. RSS is not: it keeps the allocator's high-water mark, which differs by Node.js version.
 */
export function memoryInUseMb(): number {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / MB;
}
