/** A count with its noun as people write it: `1 label`, `3 labels`, `0 labels`, `2 bad rows`. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
