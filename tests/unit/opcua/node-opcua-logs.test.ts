/**
 * node-opcua's own warnings go into the gateway's log (component opcua): a real problem at warn, the known-harmless
 * lines at debug — among them the device client's "Creating default certificate", which made a first start warn of
 * nothing wrong (issue 23).
 */
import { make_warningLog } from 'node-opcua-debug';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { routeNodeOpcuaLogs } from '../../../edge/opcua/opcua-server.js';

describe("node-opcua's warnings in the gateway's log", () => {
  it('logs a real warning at warn and the first-start certificate line at debug', () => {
    const lines: { level: number; msg: string }[] = [];
    routeNodeOpcuaLogs(
      pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) }),
    );
    const warning = make_warningLog('client_base_impl');
    warning('Creating default certificate ... please wait');
    warning('cannot reach the endpoint');
    expect(lines.map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 20, msg: 'Creating default certificate ... please wait' },
      { level: 40, msg: 'cannot reach the endpoint' },
    ]);
  });
});
