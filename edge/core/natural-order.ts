/**
 * The one order of the ids people read in lists — shelves, labels, access points, devices, aisles — wherever they are
 * sorted (the API's answers and the staff page alike).
 */
const ZERO = 48;
const NINE = 57;
const isDigit = (code: number) => code >= ZERO && code <= NINE;

/**
 * Ids as people sort them: runs of digits by their value (shelf-2 before shelf-10), the rest by character code. By
 * hand rather than Intl.Collator: GET /api/labels sorts up to 50,000 labels per request, and the collator made that
 * take most of a second.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      // skip leading zeros, then the longer run is the larger number, else the first differing digit decides
      while (i < a.length && a.charCodeAt(i) === ZERO) i++;
      while (j < b.length && b.charCodeAt(j) === ZERO) j++;
      let endA = i;
      let endB = j;
      while (endA < a.length && isDigit(a.charCodeAt(endA))) endA++;
      while (endB < b.length && isDigit(b.charCodeAt(endB))) endB++;
      if (endA - i !== endB - j) return endA - i - (endB - j);
      for (; i < endA; i++, j++) {
        const diff = a.charCodeAt(i) - b.charCodeAt(j);
        if (diff !== 0) return diff;
      }
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  // equal but for leading zeros (esl-007, esl-7): still two ids, in a fixed order
  return a.length - i - (b.length - j) || (a < b ? -1 : a > b ? 1 : 0);
}
