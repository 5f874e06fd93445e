/** Turns the results of one benchmark run into the table (Markdown, readable in a terminal) and its notes. */
import type { LatencyResult, LatencySample, LatencySettings } from './alert-latency.js';
import type { ColdStartResult, ColdStartSettings } from './cold-start.js';
import type { DurabilityResult, DurabilitySettings, KioskRun, LoadSpan } from './durability.js';
import type { ReplayResult, ReplaySettings } from './insight-replay.js';
import type { GatewayRefusals, IngestResult, IngestRun, IngestSettings } from './ingest.js';
import type { LabelsBenchResult, LabelsBenchSettings } from './labels.js';
import type { MemoryResult, MemorySettings } from './memory.js';
import type { OpcuaBenchResult, OpcuaBenchSettings } from './opcua.js';
import type { MachineInfo } from './procfs.js';
import type { RelayDrainResult, RelayDrainSettings } from './relay-drain.js';
import type { OutboxBenchResult, OutboxBenchSettings } from './relay-outbox.js';
import { formatInt, formatKiB, formatMs, formatRatio, median, percentile, verdict } from './stats.js';

export type BenchResults = {
  quick: boolean;
  machine: MachineInfo;
  totalSeconds: number;
  ingest?: { settings: IngestSettings; results: IngestResult[]; refusals: GatewayRefusals };
  latency?: { settings: LatencySettings; result: LatencyResult };
  memory?: { settings: MemorySettings; result: MemoryResult };
  coldStart?: { settings: ColdStartSettings; result: ColdStartResult };
  relay?: { outboxSettings: OutboxBenchSettings; outbox: OutboxBenchResult; drainSettings: RelayDrainSettings; drain: RelayDrainResult };
  opcua?: { settings: OpcuaBenchSettings; result: OpcuaBenchResult };
  labels?: { settings: LabelsBenchSettings; result: LabelsBenchResult };
  durability?: { settings: DurabilitySettings; result: DurabilityResult };
  insight?: { settings: ReplaySettings; result: ReplayResult };
};

export const TARGETS = {
  ingestQos0VsAedes: 0.9,
  ingestQos1VsAedes: 0.9,
  alertP99Ms: 50,
  coldStartMs: 2_000,
  outboxVsSingleRow: 25,
  drainEventsPerS: 20_000,
  labelsCampaignVsAedes: 2,
  alertAckP99Ms: 50,
  kioskGatedVsPlain: 0.8,
  opcuaStartupMs: 1_500,
};

type Row = { id: string; benchmark: string; gateway: string; baseline: string; ratio: string; target: string; result: string };

function p(sample: LatencySample, q: number): number {
  // a timed-out cycle counts as infinitely late
  return percentile([...sample.values, ...new Array<number>(sample.timeouts).fill(Number.POSITIVE_INFINITY)], q);
}

export function buildRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  if (results.ingest) {
    const { settings } = results.ingest;
    for (const result of results.ingest.results) {
      const target = result.qos === 0 ? TARGETS.ingestQos0VsAedes : TARGETS.ingestQos1VsAedes;
      const vsAedes = result.median.gateway / result.median.aedes;
      const vsMosquitto = result.median.gateway / result.median.mosquitto;
      // what a message costs the broker, whatever share of a core it got: moves less with the machine's other load
      const cpuPerMessage = (runs: IngestRun[]) => median(runs.map((run) => run.brokerCpuUsPerMessage));
      const perCpuSecond = cpuPerMessage(result.runs.aedes) / cpuPerMessage(result.runs.gateway);
      const load = result.qos === 0 ? `${settings.qos0WindowChunks * 64} in flight/client` : `${settings.qos1Window} in flight/client`;
      rows.push({
        id: result.qos === 0 ? '1a' : '1b',
        benchmark: `Telemetry ingest QoS ${result.qos}, msg/s (${settings.shelves} shelves, ${load}; median of ${settings.runs})`,
        gateway: formatInt(result.median.gateway),
        baseline: `aedes ${formatInt(result.median.aedes)} · mosquitto ${formatInt(result.median.mosquitto)}`,
        ratio: `${formatRatio(vsAedes)} aedes (${formatRatio(perCpuSecond)} per CPU-second) · ${formatRatio(vsMosquitto)} mosquitto`,
        target: `≥ ${target.toFixed(2)}× aedes`,
        result: verdict(vsAedes >= target),
      });
    }
  }
  if (results.latency) {
    const { result, settings } = results.latency;
    const bg = `${formatInt(result.backgroundAchievedRate)} msg/s background`;
    for (const q of [50, 99] as const) {
      const loaded = p(result.gatewayLoaded, q);
      const idle = p(result.gatewayIdle, q);
      rows.push({
        id: q === 50 ? '2a' : '2b',
        benchmark:
          `Shelf drop → alert on SSE /api/events, p${q} ms (${bg}; ${settings.cycles} drops over ` +
          `${settings.probeShelves * settings.facings} facings; smoothing 1, debounce 0 ms)`,
        gateway: formatMs(loaded, 2),
        baseline:
          `gateway idle ${formatMs(idle, 2)} · ` + `bare aedes publish→subscriber (same load) ${formatMs(p(result.aedesLoaded, q), 2)}`,
        ratio: `${formatRatio(loaded / idle)} idle`,
        target: q === 99 ? `< ${TARGETS.alertP99Ms} ms` : '—',
        result: q === 99 ? verdict(loaded < TARGETS.alertP99Ms) : '—',
      });
    }
  }
  if (results.memory) {
    const { result, settings } = results.memory;
    settings.stages.forEach((devices, i) => {
      if (!settings.reportStages.includes(devices)) return;
      const per = (name: keyof MemoryResult) => result[name].stages[i]?.bytesPerDevice ?? Number.NaN;
      rows.push({
        id: `3${String.fromCharCode(97 + settings.reportStages.indexOf(devices))}`,
        benchmark: `Memory per connected idle device at ${formatInt(devices)} devices (broker RSS delta / devices)`,
        gateway: formatKiB(per('gateway')),
        baseline: `aedes ${formatKiB(per('aedes'))} · mosquitto ${formatKiB(per('mosquitto'))}`,
        ratio: `${formatRatio(per('gateway') / per('aedes'))} aedes · ${formatRatio(per('gateway') / per('mosquitto'))} mosquitto`,
        target: '—',
        result: '—',
      });
    });
    const slopeRow = (id: string, benchmark: string, value: (name: keyof MemoryResult) => number | null) => {
      const v = (name: keyof MemoryResult) => value(name) ?? Number.NaN;
      rows.push({
        id,
        benchmark,
        gateway: formatKiB(v('gateway')),
        baseline: `aedes ${formatKiB(v('aedes'))} · mosquitto ${Number.isNaN(v('mosquitto')) ? 'n/a' : formatKiB(v('mosquitto'))}`,
        ratio:
          `${formatRatio(v('gateway') / v('aedes'))} aedes` +
          (Number.isNaN(v('mosquitto')) ? '' : ` · ${formatRatio(v('gateway') / v('mosquitto'))} mosquitto`),
        target: '—',
        result: '—',
      });
    };
    const stagesText = settings.stages.map((s) => formatInt(s)).join(' / ');
    // the two slope rows take the letters after the per-stage rows (3a, 3b, …)
    const slopeLetter = 97 + settings.reportStages.length;
    slopeRow(
      `3${String.fromCharCode(slopeLetter)}`,
      `Memory per connected device, RSS slope over ${stagesText} devices (least squares)`,
      (name) => result[name].rssSlopeBytes,
    );
    slopeRow(
      `3${String.fromCharCode(slopeLetter + 1)}`,
      `Memory per connected device, JS heap + external slope (node brokers; steadier than RSS)`,
      (name) => result[name].jsSlopeBytes,
    );
  }
  if (results.coldStart) {
    const { result, settings } = results.coldStart;
    rows.push({
      id: '4',
      benchmark:
        `Cold start to HTTP listening, ms (${formatInt(settings.labels)} labels, ${formatInt(result.prepared.facings)} facings, ` +
        `${formatInt(result.prepared.historyRows)} history rows, ${formatInt(result.prepared.alerts)} alerts; ` +
        `median of ${settings.runs})`,
      gateway: formatInt(result.medianBigMs),
      baseline: `empty store ${formatInt(result.medianEmptyMs)}`,
      ratio: `${formatRatio(result.medianBigMs / result.medianEmptyMs)} empty`,
      target: `< ${formatInt(TARGETS.coldStartMs)} ms`,
      result: verdict(result.medianBigMs < TARGETS.coldStartMs),
    });
  }
  if (results.relay) {
    const { outbox, drain, outboxSettings } = results.relay;
    rows.push({
      id: '5a',
      benchmark:
        'Relay outbox: durable events/s (synchronous=FULL, group commit; ' +
        `${formatInt(outboxSettings.events)} events of ${formatInt(outbox.bodyBytes)} B)`,
      gateway: formatInt(outbox.outbox.eventsPerS),
      baseline: `single-row commits ${formatInt(outbox.singleRow.eventsPerS)}`,
      ratio: `${formatRatio(outbox.ratio)} single-row`,
      target: `≥ ${TARGETS.outboxVsSingleRow}×`,
      result: verdict(outbox.ratio >= TARGETS.outboxVsSingleRow),
    });
    rows.push({
      id: '5b',
      benchmark: `Relay backlog drained to Mosquitto, events/s (${formatInt(drain.backlogEvents)} events, uncapped)`,
      gateway: formatInt(drain.uncapped.eventsPerS),
      baseline: `capped at ${formatInt(drain.capped.capRatePerS)}/s: ${formatInt(drain.capped.eventsPerS)}`,
      ratio: `${formatRatio(drain.capped.eventsPerS / drain.capped.capRatePerS)} of the cap`,
      target: `≥ ${formatInt(TARGETS.drainEventsPerS)}/s`,
      result: verdict(drain.uncapped.eventsPerS >= TARGETS.drainEventsPerS),
    });
    rows.push({
      id: '5c',
      benchmark: 'Device → HQ latency, p50 / p99 ms, while a backlog drains (live lane)',
      gateway: `${formatMs(drain.latencyDuringDrain.p50Ms, 1)} / ${formatMs(drain.latencyDuringDrain.p99Ms, 1)}`,
      baseline: `healthy, no backlog ${formatMs(drain.latencyHealthy.p50Ms, 1)} / ${formatMs(drain.latencyHealthy.p99Ms, 1)}`,
      ratio: `${formatRatio(drain.latencyDuringDrain.p99Ms / drain.latencyHealthy.p99Ms)} healthy (p99)`,
      target: '—',
      result: '—',
    });
  }
  if (results.opcua) {
    const { result, settings } = results.opcua;
    rows.push({
      id: '6a',
      benchmark: `OPC UA: updates/s delivered to a subscriber (${formatInt(result.items)} items at ${result.rateHz} Hz)`,
      gateway: formatInt(result.opcuaUpdatesPerS),
      baseline: `MQTT subscriber ${formatInt(result.mqttUpdatesPerS)}`,
      ratio: `${formatRatio(result.deliveryRatio)} MQTT`,
      target: '—',
      result: '—',
    });
    const off = result.startup.find((s) => s.variant === 'off');
    const on = result.startup.find((s) => s.variant === 'opcua');
    const scales = result.startup.find((s) => s.variant === 'opcua+scales');
    if (off && on) {
      rows.push({
        id: '6b',
        benchmark:
          `Gateway start-up with the OPC UA server, ms (${formatInt(result.items)} facings; median of ` +
          `${settings.startupRuns}; CPU ms the process used meanwhile in brackets)`,
        gateway:
          `${formatInt(on.medianStartMs)} (CPU ${formatInt(on.medianCpuMs)})` +
          `${scales ? ` · + Scales ${formatInt(scales.medianStartMs)} (CPU ${formatInt(scales.medianCpuMs)})` : ''}`,
        baseline: `without OPC UA ${formatInt(off.medianStartMs)} (CPU ${formatInt(off.medianCpuMs)})`,
        ratio: `${formatRatio(on.medianStartMs / off.medianStartMs)} without`,
        target: `< ${formatInt(TARGETS.opcuaStartupMs)} ms`,
        result: verdict(on.medianStartMs < TARGETS.opcuaStartupMs),
      });
    }
  }
  if (results.labels) {
    const { result } = results.labels;
    rows.push({
      id: '7a',
      benchmark:
        `Price campaign confirmed end to end, ms (${formatInt(result.labels)} labels behind ${result.accessPoints} simulated MQTT APs; ` +
        `median of ${result.rounds.length} rounds: ${result.rounds.map((r) => formatRatio(r.ratio)).join(', ')})`,
      gateway: `${formatInt(result.campaign.elapsedMs)} (${formatInt(result.campaign.failed)} failed)`,
      baseline:
        `bare aedes, ${formatInt(result.baseline.roundTrips)} QoS 1 publish + PUBACK over ${result.accessPoints} connections ` +
        formatInt(result.baseline.elapsedMs),
      ratio: `${formatRatio(result.ratio)} aedes`,
      target: `≤ ${TARGETS.labelsCampaignVsAedes.toFixed(0)}× aedes`,
      result: verdict(result.campaign.failed === 0 && result.ratio <= TARGETS.labelsCampaignVsAedes),
    });
    rows.push({
      id: '7b',
      benchmark: 'Gateway memory per 1,000 labels tracked (after the campaign minus before, after GC)',
      gateway: `RSS ${formatKiB(result.memory.rssPer1000Labels)}`,
      baseline: `JS heap + external ${formatKiB(result.memory.jsPer1000Labels)}`,
      ratio: '—',
      target: '—',
      result: '—',
    });
    rows.push({
      id: '7c',
      benchmark:
        `Resume a half-done ${formatInt(result.labels)}-label campaign after a restart, ms (start() until it runs again ` +
        `with its ${formatInt(result.resume.confirmedBefore)} confirmed; then the APs back → finished)`,
      gateway:
        `${formatInt(result.resume.resumedMs)}; finished ${formatInt(result.resume.finishMs)} later, ` +
        `${formatInt(result.resume.sentAfterRestart)} sends`,
      baseline: '—',
      ratio: '—',
      target: '—',
      result: '—',
    });
  }
  if (results.durability) rows.push(...durabilityRows(results.durability.settings, results.durability.result));
  if (results.insight) rows.push(...insightRows(results.insight.settings, results.insight.result, results.ingest));
  return rows;
}

/** Issue 24: each detector against the replayed scenario's ground truth; the engine's pace beside raw ingest (row 1a). */
function insightRows(settings: ReplaySettings, result: ReplayResult, ingest: BenchResults['ingest']): Row[] {
  const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
  const leadMin = settings.leadTimeMs / 60_000;
  const store = `${formatInt(result.facings)} facings, ${result.days - 1} day of history + 1 scored day, seed ${settings.scenario.seed}`;
  const rawIngest = ingest?.results.find((r) => r.qos === 0)?.median.gateway;
  return [
    {
      id: '9a',
      benchmark:
        `Stock-out predicted at least the lead time (${leadMin} min) ahead, share of ${formatInt(result.prediction.cases)} ` +
        `stock-outs (${store}; ${result.prediction.tooFast} emptied faster than the lead time after a restock, not counted)`,
      gateway: `${percent(result.prediction.recall)}, median lead ${result.prediction.medianLeadMin ?? '—'} min`,
      baseline: 'ground truth',
      ratio: '—',
      target: '≥ 90 %',
      result: verdict(result.prediction.recall >= 0.9),
    },
    {
      id: '9b',
      benchmark:
        `Stock-out predictions confirmed (the facing emptied) among those judged (${result.prediction.preempted} preempted ` +
        'by a restock, not judged)',
      gateway: `${percent(result.prediction.precision)} (${result.prediction.falseAlarms} false)`,
      baseline: 'ground truth',
      ratio: '—',
      target: '≥ 90 %',
      result: verdict(result.prediction.precision >= 0.9),
    },
    {
      id: '9c',
      benchmark:
        `Phantom stock (misplaced or stuck facings) found within ${settings.phantomFoundWithinMs / 60_000} min, ` +
        `${result.phantom.definition}; of ${result.phantom.cases} cases`,
      gateway:
        `${percent(result.phantom.recall)}, median ${result.phantom.medianDetectMin ?? '—'} min ` +
        `(${result.phantom.medianFromOnsetMin ?? '—'} from the onset), ${result.phantom.falseAlarms} false`,
      baseline: 'ground truth',
      ratio: '—',
      target: '≥ 90 %',
      result: verdict(result.phantom.recall >= 0.9),
    },
    {
      id: '9d',
      benchmark:
        `Device messages/s through the stock pipeline and the insight engine (${formatInt(result.deviceMessages)} raw readings ` +
        `and kiosk sales; engine alone ${formatInt(result.engineEventsPerS)} events/s; the whole replay took ` +
        `${formatInt(result.replayMs)} ms)`,
      gateway: formatInt(result.deviceMessagesPerS),
      baseline: rawIngest === undefined ? '—' : `raw ingest (1a) ${formatInt(rawIngest)}`,
      ratio: rawIngest === undefined ? '—' : formatRatio(result.deviceMessagesPerS / rawIngest),
      target: `replay < 60 s`,
      result: verdict(result.replayMs < 60_000),
    },
    {
      id: '9e',
      benchmark:
        `no-sales: blocked facings (2–4 h of the scored day) flagged while blocked, of ${result.noSales.cases}; ` +
        `${result.noSales.explained} alerts on misplaced or stuck facings (truly no shelf sale) not judged`,
      gateway:
        `${percent(result.noSales.recall)}, median ${result.noSales.medianDetectMin ?? '—'} min, ` +
        `precision ${percent(result.noSales.precision)} (${result.noSales.falseAlarms} false)`,
      baseline: 'ground truth',
      ratio: '—',
      // a healthy facing flagged costs a clerk a walk: at most one a day per 100 facings
      target: '≤ 1 false a day per 100 facings',
      result: verdict(result.noSales.falseAlarms <= result.facings / 100),
    },
    {
      id: '9f',
      benchmark:
        `scale-stuck: frozen load cells found within ${settings.stuckFoundWithinMs / 60_000} min from raw readings ` +
        `(every ${settings.scenario.readingIntervalMs / 1000} s, ${formatInt(result.stuckScale.readings)} readings), ` +
        `of ${result.stuckScale.cases}`,
      gateway:
        `${percent(result.stuckScale.recall)} (${result.stuckScale.detectedLater} later), ` +
        `median ${result.stuckScale.medianDetectMin ?? '—'} min, ${result.stuckScale.falseAlarms} false`,
      baseline: 'ground truth',
      ratio: '—',
      target: 'no false alarm on a live cell',
      result: verdict(result.stuckScale.falseAlarms === 0),
    },
    {
      id: '9g',
      benchmark:
        `Tare proposals: drifted load cells (${result.tare.drifted}, 8–38 g) proposed within 3 g of their drift, of the ` +
        `${result.tare.cases} that stood empty ≥ 12 min on the scored day`,
      gateway: `${percent(result.tare.recall)}, ${result.tare.falseAlarms} healthy facings proposed`,
      baseline: 'ground truth',
      ratio: '—',
      target: 'no healthy facing proposed',
      result: verdict(result.tare.falseAlarms === 0),
    },
  ];
}

const loadText = (load: LoadSpan) => `load ${load.before[0]?.toFixed(1)}→${load.after[0]?.toFixed(1)}`;

/** Issue 21 §1: the code that answered before its commit is gone, so each baseline is the same gateway's answer without one. */
function durabilityRows(settings: DurabilitySettings, result: DurabilityResult): Row[] {
  const rows: Row[] = [];
  const { ack, kiosk, campaign } = result;
  const bg = `${formatInt(ack.backgroundAchievedRate)} msg/s background`;
  for (const q of [50, 99] as const) {
    const acked = percentile(ack.ackMs, q);
    const got = percentile(ack.getMs, q);
    rows.push({
      id: q === 50 ? '8a' : '8b',
      benchmark:
        `Alert ack over HTTP, answered after its commit, p${q} ms (${bg}; ${ack.ackMs.length} acks; in-run baseline — the ` +
        `pre-commit ack no longer exists: ` +
        `GET of the same alert, same HTTP + token path, no commit; ${loadText(ack.load)})`,
      gateway: formatMs(acked, 2),
      baseline: `GET /api/alerts/:id ${formatMs(got, 2)}`,
      ratio: `${formatRatio(acked / got)} GET`,
      target: q === 99 ? `< ${TARGETS.alertAckP99Ms} ms` : '—',
      result: q === 99 ? verdict(ack.failures === 0 && acked < TARGETS.alertAckP99Ms) : '—',
    });
  }
  const opening = kiosk.median.opening;
  const plain = kiosk.median.plain;
  const ratio = opening / plain;
  const clean = kiosk.runs.every((r) => r.disconnected === 0 && r.rateLimited === 0);
  rows.push({
    id: '8c',
    benchmark:
      `Kiosk QoS 1 events/s end to end, publish → PUBACK (${settings.kiosk.kiosks} kiosks × ${settings.kiosk.window} in ` +
      `flight; median of ${settings.kiosk.runs}): ` +
      '`assist-requested` opening alerts, PUBACK after the commit, vs in-run baseline `item-scanned` (no alert, no gate) on ' +
      'the same gateway; ' +
      `${loadText(kiosk.load)}`,
    gateway: `${formatInt(opening)} (dedup, no resolver: ${formatInt(kiosk.median.dedup)})`,
    baseline: `item-scanned ${formatInt(plain)}`,
    ratio: `${formatRatio(ratio)} · dedup ${formatRatio(kiosk.median.dedup / plain)}`,
    target: `≥ ${TARGETS.kioskGatedVsPlain.toFixed(2)}×`,
    result: verdict(clean && ratio >= TARGETS.kioskGatedVsPlain),
  });
  rows.push({
    id: '8d',
    benchmark:
      `Campaign create for ${formatInt(campaign.labels)} labels (${formatInt(campaign.skus)} skus), ms: POST /api/campaigns ` +
      `→ 201 after the commit (median of ${settings.campaign.rounds}); ` +
      `in-run baseline create() alone, what the 201 waited for before; ${loadText(campaign.load)}`,
    gateway:
      `${formatInt(campaign.median.postMs)}; event loop held ≤ ${formatInt(campaign.maxHoldMs)}; an alert commit ` +
      `meanwhile waited ${formatInt(campaign.median.probeCommitMs)}`,
    baseline: `its create() alone ${formatInt(campaign.median.createMs)}`,
    ratio: formatRatio(campaign.median.postMs / campaign.median.createMs),
    target: '—',
    result: '—',
  });
  return rows;
}

export function renderTable(rows: readonly Row[]): string {
  const header = ['#', 'benchmark', 'gateway', 'baseline (same run)', 'ratio', 'target', 'result'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows)
    lines.push(`| ${[row.id, row.benchmark, row.gateway, row.baseline, row.ratio, row.target, row.result].join(' | ')} |`);
  return lines.join('\n');
}

export function renderMachine(machine: MachineInfo, results: BenchResults): string {
  return (
    `Machine: nproc ${machine.nproc}, CPU ${machine.cpuModel}, node ${machine.node}, aedes ${machine.aedes}, ` +
    `mosquitto ${machine.mosquitto}, ulimit -n ${machine.openFiles}; ${machine.date}; ` +
    `${results.quick ? 'QUICK smoke run (BENCH_QUICK=1)' : 'full run'}, ${results.totalSeconds.toFixed(0)} s`
  );
}

function runs(values: readonly number[], format: (v: number) => string): string {
  return values.map(format).join(', ');
}

/** How each figure was obtained, and the raw runs behind the medians. */
export function renderNotes(results: BenchResults): string {
  const notes: string[] = [];
  if (results.ingest) {
    const { settings } = results.ingest;
    notes.push(
      `- **1 Ingest.** ${settings.shelves} shelf clients in a forked load worker (raw MQTT 3.1.1 writer, pre-encoded valid ` +
        '`store/bench-store/shelf/<id>/weight` payloads `{facing, weightG, ts}`, steady units so no alert fires). Flow control: ' +
        `QoS 1 keeps ${settings.qos1Window} PUBLISHes unacknowledged per client; ` +
        'QoS 0 sends chunks of 64 PUBLISHes each followed by a PINGREQ and keeps ' +
        `${settings.qos0WindowChunks} chunks unanswered per client ` +
        '(a PINGRESP proves the chunk before it was handled; without this, loopback socket buffers ' +
        'queue seconds of backlog). CPU % is of one core over the window; ' +
        'the rest of the machine is what other processes used meanwhile (noise): ' +
        `a run where it exceeds ${settings.maxOtherCpuPercent} % is measured again (at most ${settings.maxRetries} times). ` +
        `Warm-up ${settings.warmupMs / 1000} s, then a ${settings.measureMs / 1000} s window, ` +
        `${settings.runs} run${settings.runs === 1 ? '' : 's'} per broker, interleaved across brokers. ` +
        'Counted at the broker: gateway = `smartstore_device_messages_total` ' +
        '(accepted after auth, ACL, schema, handed to the pipelines; production low-stock settings: median of 5, 5 s debounce); ' +
        'bare aedes = its `published` hook (the hook the gateway ingests in); mosquitto = ' +
        '`$SYS/broker/publish/messages/received` (no subscriber, so it delivers nothing, like the others). ' +
        'Gateway: log level silent, scrypt N 1024, planogram ' +
        `${settings.shelves} shelves × ${settings.facings} facings.`,
    );
    for (const result of results.ingest.results) {
      for (const name of ['gateway', 'aedes', 'mosquitto'] as const) {
        const r = result.runs[name];
        const saturated = r.some((x) => x.generatorCpuPercent >= 90)
          ? ' — the load generator was saturated too: a lower bound for this broker'
          : '';
        const retried = r.reduce((sum, x) => sum + x.retries, 0);
        const noisy = retried > 0 ? `; ${retried} run(s) measured again because other processes were busy` : '';
        notes.push(
          `  - QoS ${result.qos} ${name}: runs ${runs(
            r.map((x) => x.rate),
            formatInt,
          )} msg/s; broker CPU ${runs(
            r.map((x) => x.brokerCpuPercent),
            (v) => `${v.toFixed(0)} %`,
          )}; ` +
            `load generator CPU ${runs(
              r.map((x) => x.generatorCpuPercent),
              (v) => `${v.toFixed(0)} %`,
            )}; rest of the machine ${runs(
              r.map((x) => x.otherCpuPercent),
              (v) => `${v.toFixed(0)} %`,
            )}${noisy}${saturated}`,
        );
      }
    }
    const { refusals } = results.ingest;
    const refused = refusals.invalidMessages + refusals.rejectedPublishes + refusals.rejectedConnections;
    notes.push(
      `  - gateway refusals over all runs: ${refusals.invalidMessages} invalid messages, ` +
        `${refusals.rejectedPublishes} publishes refused, ` +
        `${refusals.rejectedConnections} connections refused` +
        (refused > 0 ? ' — WARNING: the load was not all valid, the gateway figure is off' : ' (all load was valid and accepted)'),
    );
  }
  if (results.latency) {
    const { result } = results.latency;
    const d = (s: LatencySample) =>
      `p50 ${formatMs(p(s, 50), 2)} / p99 ${formatMs(p(s, 99), 2)} / max ${formatMs(Math.max(...s.values), 2)} ms, ` +
      `${s.values.length} samples, ${s.timeouts} timeouts`;
    notes.push(
      '- **2 Alert latency.** Probe shelves (mqtt.js, QoS 1) publish the reading that drops a full facing to 1 unit (low mark 4); ' +
        'the clock runs from `publish()` to the `alert` event (state open, matching key) read from `GET /api/events` ' +
        'in the same process. Each drop is followed by a restock (alert resolved) before the next facing. ' +
        'lowStock.smoothingWindow 1 and debounceMs 0: the pipeline is measured, not the debounce (production adds its 5 s). ' +
        'Background: steady readings from other shelves in a load worker, QoS 0; ' +
        'the rate shown is what the gateway accepted during the probe.',
      `  - gateway loaded: ${d(result.gatewayLoaded)}`,
      `  - gateway idle: ${d(result.gatewayIdle)}`,
      `  - restock → alert resolved, loaded: ${d(result.resolveLoaded)}`,
      `  - bare aedes publish → subscriber, same background: ${d(result.aedesLoaded)}`,
    );
  }
  if (results.memory) {
    const { result } = results.memory;
    notes.push(
      '- **3 Memory.** mqtt.js devices in 2 forked workers (connect concurrency 100 each), ' +
        'each CONNECTs with its id/secret (keepalive 60 s), SUBSCRIBEs to its own `esl/<id>/cmd` at QoS 1 and idles. ' +
        'VmRSS of the broker process (node brokers garbage-collected first) minus its RSS before the first device, ' +
        'divided by the devices connected. Gateway devices are provisioned before that baseline, ' +
        `and ${results.memory.settings.warmupDevices} other devices connect and leave before it (JIT, heap spaces). ` +
        "Node RSS grows in steps (V8 commits heap pages in chunks), so one stage's delta is noisy: " +
        'the slope rows fit a line through all stages, ' +
        "and the JS heap + external row counts what the broker's objects hold (heapUsed + external after GC).",
    );
    for (const name of ['gateway', 'aedes', 'mosquitto'] as const) {
      const r = result[name];
      notes.push(
        `  - ${name}: baseline RSS ${(r.baselineRssBytes / 2 ** 20).toFixed(1)} MiB; ` +
          r.stages
            .map(
              (s) =>
                `${formatInt(s.devices)} devices → RSS +${(s.rssDeltaBytes / 2 ** 20).toFixed(1)} MiB` +
                (s.jsDeltaBytes === null ? '' : `, JS +${(s.jsDeltaBytes / 2 ** 20).toFixed(1)} MiB`) +
                ` (connected in ${(s.connectMs / 1000).toFixed(1)} s)`,
            )
            .join('; '),
      );
    }
  }
  if (results.coldStart) {
    const { result } = results.coldStart;
    const describe = (r: ColdStartResult['big'][number]) =>
      `${formatInt(r.startMs)} ms (${r.parts.map((x) => `${x.part} done ${formatInt(x.atMs)}`).join(', ')})`;
    notes.push(
      '- **4 Cold start.** Data dir prepared once: devices provisioned through the registry (scrypt N 1024), ' +
        'low-stock alerts raised and resolved through the alert service, ' +
        'facing_state and shelf_history generated in SQL in one transaction. ' +
        'Each run is a fresh `node` process that imports the gateway, then times `buildGateway()` + `gateway.start()` ' +
        'until HTTP listens (config has the planogram file, so start re-loads it, as in production). ' +
        "Part times come from the gateway's own `started` debug lines. " +
        'Baseline: an already initialised store with 4 shelves × 6 facings, no devices, no history. ' +
        'Database files are in the page cache.',
      `  - big store runs: ${result.big.map(describe).join('; ')}; module import ${runs(
        result.big.map((r) => r.importMs),
        (v) => `${v.toFixed(0)} ms`,
      )}`,
      `  - empty store runs: ${result.empty.map(describe).join('; ')}`,
      `  - prepared in ${(result.prepared.elapsedMs / 1000).toFixed(1)} s: ${formatInt(result.prepared.devices)} devices, ` +
        `${formatInt(result.prepared.facings)} facings, ` +
        `${formatInt(result.prepared.historyRows)} history rows, ${formatInt(result.prepared.alerts)} alerts`,
    );
  }
  if (results.relay) {
    const { outbox, drain } = results.relay;
    notes.push(
      '- **5 Relay.** (a) The outbox (its own SQLite file, WAL, synchronous=FULL) ' +
        `appends ${formatInt(outbox.outbox.events)} CloudEvents ` +
        `with up to ${formatInt(results.relay.outboxSettings.window ?? 5_000)} awaiting their commit ` +
        `(${outbox.outbox.rowsPerCommit.toFixed(0)} rows per group commit); ` +
        'baseline: the same rows, one INSERT per transaction, synchronous=FULL, same disk. ' +
        `(b) ${formatInt(drain.backlogEvents)} events appended while HQ (Mosquitto on 127.0.0.1) is unreachable ` +
        `(${formatInt(drain.fillEventsPerS)} events/s), then drained uncapped ` +
        `(${formatInt(drain.uncapped.events)} events in ${(drain.uncapped.elapsedMs / 1000).toFixed(1)} s), ` +
        'then a backlog drained with the rate cap. ' +
        "(c) Live kiosk events timed from publish to HQ's subscriber, " +
        `${drain.latencyHealthy.samples} with no backlog and ${drain.latencyDuringDrain.samples} while the capped backlog drains ` +
        `(max ${formatMs(drain.latencyHealthy.maxMs, 1)} / ${formatMs(drain.latencyDuringDrain.maxMs, 1)} ms; ` +
        `${formatInt(drain.latencyDuringDrain.backlogLeftAtEnd)} backlog events left when the last live one arrived).`,
    );
  }
  if (results.opcua) {
    const { result } = results.opcua;
    const startupText = (s: OpcuaBenchResult['startup'][number]) =>
      `${s.variant} ${formatInt(s.medianStartMs)} ms median, CPU ${formatInt(s.medianCpuMs)} ms (first ${formatInt(s.firstStartMs)} ms), ` +
      `RSS ${s.rssMB.toFixed(0)} MB` +
      (s.variant === 'opcua+scales'
        ? `, Scales devices all in DeviceSet (added after start-up) at ${formatInt(s.medianScalesAddedMs)} ms`
        : '');
    notes.push(
      `- **6 OPC UA.** ${formatInt(result.items)} facings' readings change at ${result.rateHz} Hz over MQTT ` +
        `(${formatInt(result.offeredPerS)} updates/s offered; the gateway published ` +
        `${formatInt(result.stockChangesPerS)} facing changes/s). ` +
        "OPC UA: a node-opcua client (SignAndEncrypt) monitors every facing's units; " +
        'MQTT: the same publishes relayed by a bare aedes to one subscriber. ' +
        `Gateway CPU ${result.gatewayCpuPercent.toFixed(0)} % of a core with the OPC UA subscriber, ` +
        `${result.gatewayCpuPercentWithoutSubscriber.toFixed(0)} % without; bare aedes ` +
        `${result.aedesCpuPercent.toFixed(0)} %. Start-up: ${result.startup.map(startupText).join('; ')}.`,
    );
  }
  if (results.labels) {
    const { result } = results.labels;
    const ticks = (t: LabelsBenchResult['campaignTicks']) =>
      `${formatInt(t.count)} ticks, longest ${formatMs(t.maxMs, 1)} ms, ${formatInt(t.totalMs)} ms in all`;
    notes.push(
      `- **7 Labels.** One process: the full gateway (real aedes, SQLite) and ${result.accessPoints} simulated MQTT access points ` +
        '(devices/mqtt-ap-simulator.ts; every label awake, no ack lost) ' +
        `carrying ${formatInt(result.labels)} labels bound in the planogram (50 per facing, one sku per facing). (a) Timed from ` +
        '`campaigns.create()` to the `campaign.progress` event that says it finished; ' +
        'baseline: bare aedes in the same process with as many mqtt.js ' +
        `connections, ${formatInt(result.baseline.roundTrips)} QoS 1 publishes of an AP command's size, ` +
        `${result.baseline.inFlightPerConnection} unacknowledged per connection ` +
        `(an AP driver's in-flight bound), after an uncounted warm-up (${formatInt(result.baseline.perS)} round trips/s). ` +
        `Baseline and campaign alternate for ${result.rounds.length} rounds ` +
        `(${result.rounds.map((r) => `${formatInt(r.campaignMs)}/${formatInt(r.baselineMs)} ms`).join(', ')}), ` +
        'each campaign a new price for every label; the median ratio is reported. ' +
        'The send caps (labels.campaigns.sendsPerSecondPerDriver, labels.drivers.apMaxCommandsPerSecond; ' +
        "200/s per AP in production, a radio's pace) are set to " +
        `${formatInt(results.labels.settings.apCommandsPerSecond)}/s here: ` +
        "the simulated radio answers at once, so the figure is the gateway's own cost " +
        `(${formatInt(result.campaign.labelsPerS)} labels/s confirmed). ` +
        "`create()` itself runs synchronously — every label's state and its first send — " +
        `and held the event loop up to ${formatInt(result.createMaxMs)} ms. ` +
        `Campaign service tick (synchronous part) during the first campaign: ${ticks(result.campaignTicks)}` +
        `; timers the service held once it finished: ${formatInt(result.campaignTicks.timersAtEnd)} ` +
        "(a confirmed label's timer is let go at once). " +
        '(b) RSS and JS heap + external of the whole process (gateway and simulators) ' +
        'after the first campaign minus before it, each after a GC ' +
        `(RSS ${formatInt(result.memory.rssBeforeBytes / 2 ** 20)} → ${formatInt(result.memory.rssAfterBytes / 2 ** 20)} MiB; ` +
        'RSS keeps freed pages, so the JS figure is the steadier one). ' +
        '(c) A second campaign runs with half the access points away and the gateway is stopped once the present half confirmed ' +
        `(${formatInt(result.resume.confirmedBefore)}); a new gateway on the same data dir is timed from ` +
        '`start()` until that campaign is running again with that count ' +
        `(gateway start ${formatInt(result.resume.startMs)} ms); then every AP reconnects and the campaign finishes in ` +
        `${formatInt(result.resume.finishMs)} ms with ${formatInt(result.resume.finishedConfirmed)} confirmed, ` +
        `sending ${formatInt(result.resume.sentAfterRestart)} commands — only the labels not confirmed before ` +
        '(the AP drivers are rebuilt at start from the stored label sightings, so the resumed sends wait in their queues for the AP).',
    );
  }
  if (results.durability) notes.push(...durabilityNotes(results.durability.settings, results.durability.result));
  return notes.join('\n');
}

function durabilityNotes(settings: DurabilitySettings, result: DurabilityResult): string[] {
  const { ack, kiosk, campaign } = result;
  const d = (values: number[]) =>
    `p50 ${formatMs(percentile(values, 50), 2)} / p90 ${formatMs(percentile(values, 90), 2)} / ` +
    `p99 ${formatMs(percentile(values, 99), 2)} / max ${formatMs(Math.max(...values), 2)} ms`;
  const load = (span: LoadSpan) => `load average (1/5/15 min) ${span.before.join(' / ')} before, ${span.after.join(' / ')} after`;
  const run = (r: KioskRun) =>
    `${formatInt(r.eventsPerS)}/s (PUBACK p50 ${formatMs(r.pubackP50Ms, 1)} / p99 ${formatMs(r.pubackP99Ms, 1)} ms; ` +
    `${formatInt(r.alertsOpenedPerS)} alerts opened/s, ` +
    `${formatInt(r.commitsPerS)} commits/s${r.variant === 'opening' ? `, ${formatInt(r.resolvedPerS)} resolved/s` : ''}; ` +
    `gateway CPU ${r.brokerCpuPercent.toFixed(0)} %, ` +
    `kiosks+resolver CPU ${r.generatorCpuPercent.toFixed(0)} ` +
    `%${r.disconnected + r.rateLimited > 0 ? `; WARNING ${r.disconnected} disconnected, ${r.rateLimited} rate-limited` : ''})`;
  const runsOf = (variant: KioskRun['variant']) =>
    kiosk.runs
      .filter((r) => r.variant === variant)
      .map(run)
      .join('; ');
  return [
    '- **8 Durable before acknowledged (issue 21 §1).** The gateway now answers an alert ack, a kiosk event that opens an ' +
      'alert and a campaign ' +
      'create only once the change is committed (write-behind group commit, SQLite WAL). The code path that answered before ' +
      'the commit no longer ' +
      'exists, so every baseline is the same gateway, in the same run and under the same load, answering something that ' +
      'waits for no commit. ' +
      '8a–8c: one gateway in a forked process (HQ relay disabled), log level silent, scrypt N 1024.',
    `  - 8a/8b alert ack: ${settings.ack.probeKiosks} probe kiosks (mqtt.js) each send \`assist-requested\` (QoS 1; its ` +
      `PUBACK comes after the alert's commit), ` +
      'the bench finds the alert in GET /api/alerts, then times GET /api/alerts/:id (baseline) and POST /api/alerts/:id/ack ' +
      '(answered after the commit) in ' +
      `alternating order, then resolves it (timed too) so the kiosk can ask again. Background: ` +
      `${settings.ack.backgroundShelves} shelves in a load worker, ` +
      `QoS 0 steady readings at ${formatInt(settings.ack.backgroundRate)} msg/s (the gateway accepted ` +
      `${formatInt(ack.backgroundAchievedRate)} msg/s while the cycles ran). ` +
      `fetch from the orchestrator process (keep-alive). ${settings.ack.warmupCycles} warm-up cycles not counted; ` +
      `${ack.failures} failed cycles. ${load(ack.load)}.`,
    `    - ack ${d(ack.ackMs)}; GET ${d(ack.getMs)}; resolve ${d(ack.resolveMs)}; ${ack.ackMs.length} samples each`,
    `  - 8c kiosk events: ${settings.kiosk.kiosks} kiosks as raw MQTT connections from the orchestrator process ` +
      `(mqtt-wire.ts), QoS 1, ${settings.kiosk.window} ` +
      `unacknowledged per kiosk, refilled as PUBACKs arrive; counted as PUBACKs received over a ` +
      `${settings.kiosk.measureMs / 1000} s window after ` +
      `${settings.kiosk.warmupMs / 1000} s warm-up; fresh connections per run, the three variants rotated across ` +
      `${settings.kiosk.runs} run(s). ` +
      '"opening": `assist-requested` while a resolver in the orchestrator resolves the kiosks\' active alerts over HTTP (' +
      `${settings.kiosk.resolverConcurrency} requests at a time), so new alerts keep opening and the commits carry rows — ` +
      `its HTTP work is charged to ` +
      'the gated side. "dedup": `assist-requested` with no resolver: after its first event each kiosk has an active alert, ' +
      'the event opens nothing, yet ' +
      'the ack gate still asks for a commit and the PUBACK waits for it (an empty group commit). Baseline "plain": ' +
      '`item-scanned` for a sku outside the ' +
      'planogram (no alert, no gate, no stock change). Device rate limit as in production (500 msg/s per kiosk): a run that ' +
      'hit it is flagged. ' +
      `${load(kiosk.load)}.`,
    `    - opening: ${runsOf('opening')}`,
    `    - dedup: ${runsOf('dedup')}`,
    `    - plain: ${runsOf('plain')}`,
    `  - 8d campaign create: a gateway in the bench process with ${formatInt(campaign.labels)} labels bound in its planogram ` +
      `(${campaign.labelsPerFacing} per facing, ` +
      `${formatInt(campaign.skus)} skus), no access point connected (sends find no driver; the 201 does not wait for sends). ` +
      `Per round: POST /api/campaigns ` +
      "with a new price for every sku (JSON, admin token, over 127.0.0.1) timed to its 201; the route's own " +
      '`campaigns.create()` call is timed from ' +
      'the outside (the baseline: what the 201 waited for before it waited for `durable()`; it runs synchronously, so it is ' +
      'also how long create holds ' +
      'the event loop). Event-loop hold: the longest gap between the ticks of a 1 ms interval while the request was answered ' +
      '(create() plus the ' +
      "commit's synchronous part: the board's rows serialised). Probe: 20 ms after the route's create() returned, an " +
      'alert is raised in process and ' +
      "`writer.commit()` timed — what an alert ack or a kiosk PUBACK asked for during the campaign's commit waits. Each " +
      'campaign is cancelled (and ' +
      `committed) before the next; one warm-up campaign (1 sku) not counted. Cancelling the last one until committed took ` +
      `${formatInt(campaign.cancelMs)} ms, ` +
      `the gateway's stop() after it ${formatInt(campaign.stopMs)} ms. ${load(campaign.load)}.`,
    `    - rounds: ${campaign.rounds
      .map(
        (r) =>
          `POST ${formatInt(r.postMs)} ms (create() ${formatInt(r.createMs)} ms), held ${formatInt(r.holdMs)} ms, ` +
          `probe commit ${formatInt(r.probeCommitMs)} ms`,
      )
      .join('; ')}`,
  ];
}

export function summaryLine(results: BenchResults): string {
  const rows = buildRows(results).filter((r) => r.result === 'PASS' || r.result === 'FAIL');
  return `Targets: ${rows.map((r) => `${r.id} ${r.result}`).join(', ')}`;
}
