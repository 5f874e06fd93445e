export const name = 'hq-commands';

/**
 * hq_commands: every command HQ sent (by its id) and the result the store reported, so a command HQ delivers again
 * (MQTT QoS 1 redelivery, an operator's retry) is answered from here instead of being run twice. Pruned to the newest
 * rows by the relay (HqCommandStore).
 */
export const sql = `
CREATE TABLE hq_commands (
  id           TEXT PRIMARY KEY,
  type         TEXT NOT NULL,
  result       TEXT NOT NULL,
  received_at  INTEGER NOT NULL
);
`;
