/** Hand-built MQTT bytes for tests that send what no client library would. */

/** MQTT's variable-length encoding of a remaining length (1–4 bytes). */
export function encodeRemainingLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}
