/**
 * Lets the first `burst` events of a key through in each window and counts the rest, so that one broken or hostile
 * device cannot flood the log. The map of keys is bounded: past `maxKeys` the oldest key is forgotten.
 */
export class LogThrottle {
  private readonly windows = new Map<string, { startedAt: number; passed: number; suppressed: number }>();

  constructor(
    private readonly options: { burst: number; windowMs: number; maxKeys: number },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Returns -1 when the event should not be logged; otherwise the number of events suppressed for this key
   * since the last logged one (to put in the log line).
   */
  admit(key: string): number {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.options.windowMs) {
      const suppressed = window?.suppressed ?? 0;
      if (!window && this.windows.size >= this.options.maxKeys) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { startedAt: now, passed: 0, suppressed: 0 };
      this.windows.delete(key);
      this.windows.set(key, window);
      window.passed = 1;
      return suppressed;
    }
    if (window.passed < this.options.burst) {
      window.passed++;
      return 0;
    }
    window.suppressed++;
    return -1;
  }
}
