/**
 * Which topics a set of MQTT topic filters could match, answered without splitting the topic: exact filters by their
 * whole text, wildcard filters by their first level (or all topics, when the first level is itself a wildcard). It may
 * say a topic could match when it does not (a wildcard filter under the same first level), never the other way round:
 * what it is used for (routing-shortcut.ts, persistence-shortcut.ts) only skips work when no filter could match.
 */
const SLASH = 0x2f;

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** A wildcard filter's first level, or undefined when the first level is itself a wildcard (it may match any topic). */
function literalFirstLevel(filter: string): string | undefined {
  const end = filter.indexOf('/');
  const level = end < 0 ? filter : filter.slice(0, end);
  return hasWildcard(level) ? undefined : level;
}

/** The slot of a text's last character in `exactEndings`: its code when ASCII, 128 for anything else (or none). */
function endingOf(text: string): number {
  const code = text.charCodeAt(text.length - 1);
  return code < 128 ? code : 128;
}

export class TopicFilterIndex {
  /** filter → how many holders hold it (bounded by the subscriptions the broker holds) */
  private readonly exact = new Map<string, number>();
  /**
   * Exact filters by their last character (ASCII; anything else in the last slot): a topic whose last character no
   * exact filter ends with cannot equal one, and is answered without hashing it — a reading's topic is a new string
   * each time, a command topic ends in `d`, a reading's in `t`.
   */
  private readonly exactEndings = new Uint32Array(129);
  private readonly wildcards = new Map<string, number>();
  /** first levels of the wildcard filters, derived from `wildcards`; `anyLevel` when one starts with a wildcard */
  private wildcardLevels: string[] = [];
  private anyLevel = false;

  add(filter: string): void {
    const byFilter = hasWildcard(filter) ? this.wildcards : this.exact;
    const held = byFilter.get(filter) ?? 0;
    byFilter.set(filter, held + 1);
    if (held > 0) return;
    if (byFilter === this.wildcards) this.indexWildcards();
    else this.countEnding(filter, 1);
  }

  /** One holder of `filter` let go (a filter never added is ignored). */
  remove(filter: string): void {
    const byFilter = hasWildcard(filter) ? this.wildcards : this.exact;
    const held = byFilter.get(filter);
    if (held === undefined) return;
    if (held > 1) {
      byFilter.set(filter, held - 1);
      return;
    }
    byFilter.delete(filter);
    if (byFilter === this.wildcards) this.indexWildcards();
    else this.countEnding(filter, -1);
  }

  /** Whether any filter held now could match `topic`. Runs per message: a Map lookup and a few prefix compares. */
  mayMatch(topic: string): boolean {
    if (this.anyLevel) return true;
    if (this.exactEndings[endingOf(topic)] !== 0 && this.exact.has(topic)) return true;
    const levels = this.wildcardLevels;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i] as string;
      if (topic.startsWith(level) && (topic.length === level.length || topic.charCodeAt(level.length) === SLASH)) return true;
    }
    return false;
  }

  get size(): number {
    return this.exact.size + this.wildcards.size;
  }

  private countEnding(filter: string, by: 1 | -1): void {
    const slot = endingOf(filter);
    this.exactEndings[slot] = (this.exactEndings[slot] ?? 0) + by;
  }

  private indexWildcards(): void {
    const levels = new Set<string>();
    let anyLevel = false;
    for (const filter of this.wildcards.keys()) {
      const level = literalFirstLevel(filter);
      if (level === undefined) anyLevel = true;
      else levels.add(level);
    }
    this.anyLevel = anyLevel;
    this.wildcardLevels = [...levels];
  }
}
