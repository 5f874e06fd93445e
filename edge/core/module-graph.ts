/**
 * The start order of the gateway's modules, derived from what each declares it needs (as Home Assistant orders its
 * integrations from their manifests' `dependencies`, and fastify's avvio its plugins). Pure: names in, order out, or a
 * typed error that names the module and the need — thrown when the gateway is built, before anything starts.
 */

/** What the graph knows of a module: its name, what must start before it, and what it only calls once all are built. */
export type ModuleNode = {
  readonly name: string;
  /** started before this module and stopped after it; handed to it when it is built */
  readonly needs: readonly string[];
  /** called only later (an event, a timer, a request): no order, so two modules may use each other */
  readonly uses: readonly string[];
};

export class ModuleGraphError extends Error {}

export class DuplicateModuleError extends ModuleGraphError {
  constructor(readonly module: string) {
    super(`two modules are named "${module}"`);
    this.name = 'DuplicateModuleError';
  }
}

export class MissingNeedError extends ModuleGraphError {
  constructor(
    readonly module: string,
    readonly need: string,
    readonly relation: 'needs' | 'uses',
  ) {
    super(`module "${module}" ${relation} "${need}", which no module of the gateway provides`);
    this.name = 'MissingNeedError';
  }
}

export class NeedCycleError extends ModuleGraphError {
  /** the modules around the cycle, the first repeated at the end: ['a', 'b', 'a'] */
  constructor(readonly cycle: readonly string[]) {
    super(`modules need each other in a cycle: ${cycle.join(' → ')} (one of them can "use" the other instead of needing it)`);
    this.name = 'NeedCycleError';
  }
}

/**
 * The order to start `nodes` in: every module after what it needs. Among modules free to start, the one listed first
 * goes first, so the order is stable and reads like the list; no order is right only because of where a line stands.
 * `provided` are names the gateway itself provides (they start nothing).
 */
export function startOrder(nodes: readonly ModuleNode[], provided: readonly string[] = []): string[] {
  const names = new Set<string>(provided);
  for (const node of nodes) {
    if (names.has(node.name)) throw new DuplicateModuleError(node.name);
    names.add(node.name);
  }
  for (const node of nodes) {
    for (const need of node.needs) if (!names.has(need)) throw new MissingNeedError(node.name, need, 'needs');
    for (const use of node.uses) if (!names.has(use)) throw new MissingNeedError(node.name, use, 'uses');
  }

  const started = new Set<string>(provided);
  const waiting = [...nodes];
  const order: string[] = [];
  while (waiting.length > 0) {
    const next = waiting.findIndex((node) => node.needs.every((need) => started.has(need)));
    if (next < 0) throw new NeedCycleError(cycleAmong(waiting, started));
    const [node] = waiting.splice(next, 1) as [ModuleNode];
    started.add(node.name);
    order.push(node.name);
  }
  return order;
}

/** Every waiting module needs another waiting one, so following first unmet needs must come round: that loop. */
function cycleAmong(waiting: readonly ModuleNode[], started: ReadonlySet<string>): string[] {
  const byName = new Map(waiting.map((node) => [node.name, node]));
  const path: string[] = [];
  let current = waiting[0];
  while (current && !path.includes(current.name)) {
    path.push(current.name);
    const unmet = current.needs.find((need) => !started.has(need));
    current = unmet === undefined ? undefined : byName.get(unmet);
  }
  if (!current) return path; // unreachable: every waiting module has an unmet need among the waiting
  return [...path.slice(path.indexOf(current.name)), current.name];
}
