/**
 * The bookkeeping of a kill test: every write the test sent, whether its answer (2xx, PUBACK, CLI exit 0) arrived
 * before the gateway was killed, and the checks after the restart — each acknowledged write is found in the state and
 * in the audit trail, and no audit entry says something the state contradicts. Pure: the snapshots come in as data.
 *
 * A subject's state is a short string (an alert's state, 'enabled', a label's 'shelf-a/2', …) so that "what the
 * writes imply" and "what the gateway shows" compare as equal strings. Writes on one subject are sent one after
 * another by the workload, so at most the last one of a cycle is unanswered: it may or may not have happened.
 */

export type Domain = 'alert' | 'campaign' | 'device' | 'label' | 'token';
export type Outcome = 'acked' | 'unknown' | 'refused';

/** State of a subject nobody has made yet (or a label nobody bound). */
const ABSENT: Record<Domain, string> = { alert: 'absent', campaign: 'absent', device: 'absent', label: 'unbound', token: 'inactive' };

export type RecordedAction = {
  /** issue order over the whole test */
  seq: number;
  cycle: number;
  /** what was done, e.g. 'alert.ack', 'campaign.create' */
  kind: string;
  domain: Domain;
  subject: string;
  /** the state it leaves its subject in; null: the state is unchanged (a secret rotation) */
  to: string | null;
  /** the audit action it must leave, when it is one people are audited for */
  audit: string | undefined;
  /** the state the client saw just before, when it read it (alerts); otherwise the state verified after the last restart */
  before?: string;
  /** a credential the answer handed out (device secret, API token) */
  secret?: string;
  sentAt: number;
  ackedAt?: number;
  outcome: Outcome;
};

export type NewAction = Omit<RecordedAction, 'seq' | 'sentAt' | 'outcome' | 'ackedAt' | 'cycle'>;

/** A kiosk QoS 1 `assist-requested` event: PUBACKed means an alert for that kiosk exists after a restart. */
export type KioskEventRecord = { cycle: number; kioskId: string; sentAt: number; ackedAt?: number };

export type AuditEntryView = { seq: number; action: string; subject: string; details: Record<string, unknown> };
export type KioskAlertView = { deviceId: string; openedAt: number; resolvedAt?: number };

/** What the restarted gateway shows: subject states by `domain:subject`, the kiosk alerts, the audit trail. */
export type StateSnapshot = {
  states: ReadonlyMap<string, string>;
  kioskAlerts: readonly KioskAlertView[];
  audit: readonly AuditEntryView[];
  auditVerify: { ok: boolean; output: string };
};

export type Finding = {
  cycle: number;
  problem: 'lost' | 'no-audit-entry' | 'audit-entry-not-issued' | 'audit-contradicts-state' | 'audit-verify-failed';
  /** the write's kind ('alert.ack', 'kiosk.assist-requested', …) or the audit action */
  kind: string;
  subject: string;
  detail: string;
};

/** Proof a credential works or was withdrawn, for writes whose state alone does not show it (a rotated secret). */
export type CredentialCheck = {
  cycle: number;
  kind: string;
  domain: 'device' | 'token';
  subject: string;
  secret: string;
  accepted: boolean;
};

/** an answer older than the event it follows by this much still counts (the gateway's clock is this machine's) */
const KIOSK_ALERT_SLACK_MS = 250;
/** the ledger's bound: far above what 20+ cycles of the workload send */
const MAX_RECORDS = 200_000;

export function stateKey(domain: Domain, subject: string): string {
  return `${domain}:${subject}`;
}

export function stateIn(snapshot: Pick<StateSnapshot, 'states'>, domain: Domain, subject: string): string {
  return snapshot.states.get(stateKey(domain, subject)) ?? ABSENT[domain];
}

/** Every write and kiosk event the test sent, with what came back. */
export class DurabilityLedger {
  readonly actions: RecordedAction[] = [];
  readonly kioskEvents: KioskEventRecord[] = [];
  private nextSeq = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a write as it is sent; the handle records its answer. Unanswered, it stays 'unknown'. */
  begin(cycle: number, action: NewAction): { acked(secret?: string): void; refused(): void } {
    this.bound();
    const record: RecordedAction = { ...action, seq: this.nextSeq++, cycle, sentAt: this.now(), outcome: 'unknown' };
    this.actions.push(record);
    return {
      acked: (secret) => {
        record.outcome = 'acked';
        record.ackedAt = this.now();
        if (secret !== undefined) record.secret = secret;
      },
      refused: () => {
        record.outcome = 'refused';
      },
    };
  }

  beginKioskEvent(cycle: number, kioskId: string): { acked(): void } {
    this.bound();
    const record: KioskEventRecord = { cycle, kioskId, sentAt: this.now() };
    this.kioskEvents.push(record);
    return { acked: () => (record.ackedAt = this.now()) };
  }

  ackedCount(cycle: number): number {
    return (
      this.actions.filter((a) => a.cycle === cycle && a.outcome === 'acked').length +
      this.kioskEvents.filter((e) => e.cycle === cycle && e.ackedAt !== undefined).length
    );
  }

  private bound(): void {
    if (this.actions.length + this.kioskEvents.length >= MAX_RECORDS)
      throw new Error(`durability ledger full (${MAX_RECORDS} records): the workload runs away`);
  }
}

/**
 * Checks one cycle after the restart: `previous` is what the gateway showed before the cycle's writes (after the
 * previous restart), `current` what it shows now.
 */
export function checkCycle(ledger: DurabilityLedger, cycle: number, previous: StateSnapshot, current: StateSnapshot): Finding[] {
  const sent = ledger.actions.filter((a) => a.cycle === cycle && a.outcome !== 'refused');
  const bySubject = groupBy(sent, (a) => stateKey(a.domain, a.subject));
  const previousMaxSeq = Math.max(0, ...previous.audit.map((e) => e.seq));
  const newEntries = current.audit.filter((e) => e.seq > previousMaxSeq);
  return [
    ...[...bySubject.values()].flatMap((actions) => lostWrites(actions, previous, current)),
    ...auditOfWrites(cycle, bySubject, newEntries),
    ...lostKioskEvents(
      ledger.kioskEvents.filter((e) => e.cycle === cycle && e.ackedAt !== undefined),
      current.kioskAlerts,
    ),
    ...(current.auditVerify.ok
      ? []
      : [
          { cycle, problem: 'audit-verify-failed' as const, kind: 'audit verify', subject: '-', detail: current.auditVerify.output.trim() },
        ]),
    ...auditContradictions(cycle, current),
  ];
}

/** The writes of one subject in one cycle (send order) whose effect is not in the state the gateway shows. */
function lostWrites(actions: readonly RecordedAction[], previous: StateSnapshot, current: StateSnapshot): Finding[] {
  const [first] = actions;
  if (!first) return [];
  // candidates[i]: the states the subject may be in after the first i writes (an unanswered one may not have happened)
  const candidates: Set<string>[] = [new Set([first.before ?? stateIn(previous, first.domain, first.subject)])];
  for (const action of actions) {
    const before = candidates[candidates.length - 1] as Set<string>;
    const after = new Set([...before].map((state) => action.to ?? state));
    if (action.outcome === 'unknown') for (const state of before) after.add(state);
    candidates.push(after);
  }
  const actual = stateIn(current, first.domain, first.subject);
  let reflected = candidates.length - 1;
  while (reflected >= 0 && !(candidates[reflected] as Set<string>).has(actual)) reflected--;
  if (reflected === candidates.length - 1) return [];
  const expected = [...(candidates[candidates.length - 1] as Set<string>)].join(' or ');
  return actions
    .slice(Math.max(0, reflected))
    .filter((a) => a.outcome === 'acked')
    .map((a) => ({
      cycle: a.cycle,
      problem: 'lost' as const,
      kind: a.kind,
      subject: a.subject,
      detail: `answered ${(a.ackedAt ?? a.sentAt) - a.sentAt} ms after sending; expected ${expected}, found ${actual}`,
    }));
}

/** Audit entries of a cycle against its writes: each answered write has its entry, each entry a write that caused it. */
function auditOfWrites(cycle: number, bySubject: ReadonlyMap<string, RecordedAction[]>, entries: readonly AuditEntryView[]): Finding[] {
  const findings: Finding[] = [];
  const entriesBySubject = groupBy(
    entries.filter((e) => auditDomain(e.action) !== undefined),
    (e) => stateKey(auditDomain(e.action) as Domain, auditSubject(e)),
  );
  const keys = new Set([...bySubject.keys(), ...entriesBySubject.keys()]);
  for (const key of keys) {
    const issued = (bySubject.get(key) ?? []).filter((a) => a.audit !== undefined);
    const written = entriesBySubject.get(key) ?? [];
    const { unmatchedIssued, unmatchedWritten } = alignAudit(issued, written);
    for (const action of unmatchedIssued) {
      if (action.outcome !== 'acked') continue;
      findings.push({
        cycle,
        problem: 'no-audit-entry',
        kind: action.kind,
        subject: action.subject,
        detail: `answered, but no ${action.audit} entry after the restart`,
      });
    }
    for (const entry of unmatchedWritten) {
      findings.push({
        cycle,
        problem: 'audit-entry-not-issued',
        kind: entry.action,
        subject: entry.subject,
        detail: `audit seq ${entry.seq} has no write of this cycle behind it`,
      });
    }
  }
  return findings;
}

/**
 * The longest common subsequence of the writes' audit actions and the entries found, preferring to leave out an
 * unanswered write (which may not have happened) rather than an answered one.
 */
function alignAudit(
  issued: readonly RecordedAction[],
  written: readonly AuditEntryView[],
): { unmatchedIssued: RecordedAction[]; unmatchedWritten: AuditEntryView[] } {
  const rows = issued.length;
  const cols = written.length;
  const lcs: number[][] = Array.from({ length: rows + 1 }, () => new Array<number>(cols + 1).fill(0));
  for (let i = 1; i <= rows; i++) {
    for (let j = 1; j <= cols; j++) {
      const row = lcs[i] as number[];
      const up = (lcs[i - 1] as number[])[j] as number;
      const left = row[j - 1] as number;
      const match = issued[i - 1]?.audit === written[j - 1]?.action ? ((lcs[i - 1] as number[])[j - 1] as number) + 1 : 0;
      row[j] = Math.max(up, left, match);
    }
  }
  const unmatchedIssued: RecordedAction[] = [];
  const unmatchedWritten: AuditEntryView[] = [];
  let i = rows;
  let j = cols;
  while (i > 0 || j > 0) {
    const here = (lcs[i] as number[])[j] as number;
    const action = issued[i - 1];
    if (i > 0 && action?.outcome === 'unknown' && ((lcs[i - 1] as number[])[j] as number) === here) {
      unmatchedIssued.push(action);
      i--;
    } else if (i > 0 && j > 0 && action?.audit === written[j - 1]?.action && ((lcs[i - 1] as number[])[j - 1] as number) + 1 === here) {
      i--;
      j--;
    } else if (i > 0 && ((lcs[i - 1] as number[])[j] as number) === here) {
      unmatchedIssued.push(action as RecordedAction);
      i--;
    } else {
      unmatchedWritten.push(written[j - 1] as AuditEntryView);
      j--;
    }
  }
  return { unmatchedIssued, unmatchedWritten };
}

/** PUBACKed kiosk events without an alert for their kiosk that was active when the event arrived. */
function lostKioskEvents(events: readonly KioskEventRecord[], alerts: readonly KioskAlertView[]): Finding[] {
  return events
    .filter((event) => {
      const ackedAt = event.ackedAt as number;
      return !alerts.some(
        (a) =>
          a.deviceId === event.kioskId &&
          a.openedAt <= ackedAt + KIOSK_ALERT_SLACK_MS &&
          (a.resolvedAt === undefined || a.resolvedAt >= event.sentAt),
      );
    })
    .map((event) => ({
      cycle: event.cycle,
      problem: 'lost' as const,
      kind: 'kiosk.assist-requested',
      subject: event.kioskId,
      detail:
        `PUBACKed ${(event.ackedAt as number) - event.sentAt} ms after sending; ` +
        `no kiosk-assist alert of ${event.kioskId} active at that time`,
    }));
}

const AUDIT_EFFECTS: Record<string, { domain: Domain; to: string | null }> = {
  'alert.acknowledged': { domain: 'alert', to: 'acknowledged' },
  'alert.snoozed': { domain: 'alert', to: 'snoozed' },
  'alert.resolved': { domain: 'alert', to: 'resolved' },
  'campaign.created': { domain: 'campaign', to: 'created' },
  'campaign.cancelled': { domain: 'campaign', to: 'cancelled' },
  'campaign.rolled-back': { domain: 'campaign', to: 'rolled-back' },
  'device.added': { domain: 'device', to: 'enabled' },
  'device.disabled': { domain: 'device', to: 'disabled' },
  'device.enabled': { domain: 'device', to: 'enabled' },
  'device.secret-rotated': { domain: 'device', to: null },
  'device.removed': { domain: 'device', to: 'absent' },
  'token.added': { domain: 'token', to: 'active' },
  'token.revoked': { domain: 'token', to: 'inactive' },
};

function auditDomain(action: string): Domain | undefined {
  return action === 'label.bound' ? 'label' : AUDIT_EFFECTS[action]?.domain;
}

function auditSubject(entry: AuditEntryView): string {
  return entry.action === 'label.bound' ? entry.subject.replace(/^label\//, '') : entry.subject;
}

/** The state each audit entry says its subject is in (a rollback also says its reverse campaign exists). */
function auditEffects(entry: AuditEntryView): { key: string; to: string | null }[] {
  if (entry.action === 'label.bound')
    return [{ key: stateKey('label', auditSubject(entry)), to: `${String(entry.details.shelfId)}/${String(entry.details.facing)}` }];
  const effect = AUDIT_EFFECTS[entry.action];
  if (!effect) return [];
  const effects = [{ key: stateKey(effect.domain, entry.subject), to: effect.to }];
  if (entry.action === 'campaign.rolled-back' && typeof entry.details.rollbackId === 'string')
    effects.push({ key: stateKey('campaign', entry.details.rollbackId), to: 'created' });
  return effects;
}

/** Subjects whose audit trail, replayed in order, ends in another state than the one the gateway shows. */
function auditContradictions(cycle: number, current: StateSnapshot): Finding[] {
  const replayed = new Map<string, { to: string; entry: AuditEntryView }>();
  for (const entry of [...current.audit].sort((a, b) => a.seq - b.seq)) {
    for (const { key, to } of auditEffects(entry)) {
      if (to !== null) replayed.set(key, { to, entry });
    }
  }
  const findings: Finding[] = [];
  for (const [key, { to, entry }] of replayed) {
    const actual = current.states.get(key) ?? ABSENT[key.slice(0, key.indexOf(':')) as Domain];
    if (actual === to) continue;
    findings.push({
      cycle,
      problem: 'audit-contradicts-state',
      kind: entry.action,
      subject: key,
      detail: `the audit trail ends in ${to} (seq ${entry.seq}), the gateway shows ${actual}`,
    });
  }
  return findings;
}

/**
 * Credentials to try after a cycle: a secret handed out by an answered `add` or `rotate-secret` must be accepted while
 * the device is enabled; an answered token `add` must authenticate and an answered `revoke` must not.
 */
export function credentialChecks(ledger: DurabilityLedger, cycle: number, current: Pick<StateSnapshot, 'states'>): CredentialCheck[] {
  const checks: CredentialCheck[] = [];
  const history = groupBy(
    ledger.actions.filter((a) => a.outcome !== 'refused' && (a.domain === 'device' || a.domain === 'token')),
    (a) => stateKey(a.domain, a.subject),
  );
  for (const actions of history.values()) {
    const last = actions[actions.length - 1] as RecordedAction;
    if (last.cycle !== cycle || last.outcome !== 'acked') continue;
    const withSecret = [...actions].reverse().find((a) => a.secret !== undefined);
    if (!withSecret) continue;
    const since = actions.slice(actions.indexOf(withSecret));
    if (since.some((a) => a.outcome !== 'acked')) continue;
    if (last.domain === 'device') {
      if (stateIn(current, 'device', last.subject) !== 'enabled' || last.to === 'absent') continue;
      checks.push({
        cycle,
        kind: withSecret.kind,
        domain: 'device',
        subject: last.subject,
        secret: withSecret.secret as string,
        accepted: true,
      });
    } else {
      checks.push({
        cycle,
        kind: last.kind,
        domain: 'token',
        subject: last.subject,
        secret: withSecret.secret as string,
        accepted: last.to === 'active',
      });
    }
  }
  return checks;
}

/** Counts per problem and kind, and the first findings one a line, for an assertion message. */
export function describeFindings(findings: readonly Finding[], maxLines = 80): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(`${f.problem} ${f.kind}`, (counts.get(`${f.problem} ${f.kind}`) ?? 0) + 1);
  const summary = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([what, n]) => `  ${what}: ${n}`);
  const lines = findings.slice(0, maxLines).map((f) => `  cycle ${f.cycle} ${f.problem} ${f.kind} ${f.subject}: ${f.detail}`);
  const more = findings.length > maxLines ? [`  … and ${findings.length - maxLines} more`] : [];
  return [`${findings.length} findings`, ...summary, 'first findings:', ...lines, ...more].join('\n');
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
