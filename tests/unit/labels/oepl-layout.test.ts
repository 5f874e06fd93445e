import { describe, expect, it } from 'vitest';
import {
  OEPL_DEFAULT_CANVAS,
  OEPL_TTF,
  TTF_CHAR_WIDTH,
  oeplCanvas,
  oeplPriceLayout,
  type OeplCanvas,
} from '../../../edge/labels/oepl-layout.js';
import { oeplPriceCommands } from '../../../edge/labels/oepl-rules.js';

const content = { productName: 'Organic whole milk 3.8 % fat, 1 litre carton', priceCents: 123_456, sku: '4000000000017-EXTRA-LONG-SKU' };
type Text = [number, number, string, string, number, number?, number?];
const texts = (commands: unknown[]) => commands.map((command) => (command as { text: Text }).text);

// one hwType per common size (resources/tagtypes/<hwType>.json)
const SIZES: [string, number, number, number][] = [
  ['1.54"', 0x00, 152, 152],
  ['2.13"', 0x54, 256, 128],
  ['2.13" small', 0x5a, 212, 104],
  ['4.2"', 0x02, 400, 300],
  ['7.5"', 0x26, 640, 384],
  ['7.5" M3', 0x36, 800, 480],
];

describe('OpenEPaperLink layout per tag size', () => {
  it('keeps the 2.9" layout the gateway always sent (tags showing a price are not redrawn)', () => {
    expect(oeplCanvas(0x01)).toEqual(OEPL_DEFAULT_CANVAS);
    expect(oeplCanvas(undefined)).toEqual(OEPL_DEFAULT_CANVAS);
    expect(oeplCanvas(0xfe)).toEqual(OEPL_DEFAULT_CANVAS); // a type not in the table
    expect(texts(oeplPriceCommands(content))).toEqual([
      [4, 4, content.productName.slice(0, 40), 'fonts/bahnschrift20', 1],
      [4, 40, '1234.56', 'fonts/bahnschrift70', 2],
      [4, 112, content.sku.slice(0, 32), 'glasstown_nbp_tf', 1],
    ]);
  });

  for (const [label, hwType, width, height] of SIZES) {
    it(`${label} (hwType 0x${hwType.toString(16)}, ${width} × ${height}): name, price and SKU stay on the display`, () => {
      const canvas: OeplCanvas = oeplCanvas(hwType);
      expect([canvas.width, canvas.height]).toEqual([width, height]);
      const [name, price, sku] = texts(oeplPriceCommands(content, canvas));
      for (const [x, y, text, font, , , size] of [name!, price!, sku!]) {
        expect(font).toBe(OEPL_TTF);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y + size!).toBeLessThanOrEqual(height);
        expect(x + text.length * size! * TTF_CHAR_WIDTH).toBeLessThanOrEqual(width);
      }
      expect(price![2]).toBe('1234.56');
      // lines do not overlap, top to bottom
      expect(name![1] + name![6]!).toBeLessThanOrEqual(price![1]);
      expect(price![1] + price![6]!).toBeLessThanOrEqual(sku![1]);
      // the price is the biggest thing on the tag
      expect(price![6]!).toBeGreaterThan(name![6]!);
    });
  }

  it('a bigger tag gets a bigger price', () => {
    const priceSize = (hwType: number) => texts(oeplPriceLayout(content, '12.34', oeplCanvas(hwType)))[1]![6]!;
    expect(priceSize(0x00)).toBeLessThan(priceSize(0x02));
    expect(priceSize(0x02)).toBeLessThan(priceSize(0x26));
  });
});
