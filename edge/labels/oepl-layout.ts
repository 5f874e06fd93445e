/**
 * Where the price goes on an OpenEPaperLink tag of a given type. The AP draws our `/jsonupload` commands on a canvas
 * of the tag's size (`hwType` → resources/tagtypes/<hwType>.json, `width` × `height`, OpenEPaperLink commit cdd1cfa9),
 * so a layout made for one size is cut off on a smaller tag and lost in a corner of a bigger one. Pure.
 *
 * Text commands: `{"text":[x, y, text, font, color, align, size]}` (contentmanager.cpp:2887-2893); a `.ttf` font is
 * drawn at `size` pixels (contentmanager.cpp:665, 695-730), the `.vlw` fonts at their own size.
 */
import type { LabelContent } from './label-driver.js';

export type OeplCanvas = { width: number; height: number; name: string };

/** The common sizes (resources/tagtypes/*.json: `name`, `width`, `height`). */
export const OEPL_TAG_TYPES: ReadonlyMap<number, OeplCanvas> = new Map([
  [0x00, { width: 152, height: 152, name: 'M2 1.54"' }],
  [0x57, { width: 200, height: 200, name: 'TLSR BWR 1.54"' }],
  [0x01, { width: 296, height: 128, name: 'M2 2.9"' }],
  [0x11, { width: 296, height: 128, name: 'M2 2.9"' }],
  [0x07, { width: 296, height: 128, name: 'Opticon 2.9"' }],
  [0x2b, { width: 384, height: 168, name: 'M3 2.9"' }],
  [0x33, { width: 384, height: 168, name: 'M3 2.9"' }],
  [0x54, { width: 256, height: 128, name: 'HS BW 2.13"' }],
  [0x55, { width: 256, height: 128, name: 'HS BWR 2.13"' }],
  [0x5a, { width: 212, height: 104, name: 'HS BW 2.13"' }],
  [0xb0, { width: 250, height: 128, name: 'Gicisky BLE EPD BW 2.13"' }],
  [0x02, { width: 400, height: 300, name: 'M2 4.2"' }],
  [0x12, { width: 400, height: 300, name: 'M2 4.2"' }],
  [0x08, { width: 400, height: 300, name: 'Opticon 4.2"' }],
  [0x34, { width: 400, height: 300, name: 'M3 4.2"' }],
  [0x26, { width: 640, height: 384, name: 'M2 7.5"' }],
  [0x09, { width: 640, height: 384, name: 'Opticon 7.5"' }],
  [0x36, { width: 800, height: 480, name: 'M3 7.5"' }],
]);

/** hwType unknown (not reported yet, or a type not in the table): the common 2.9" tag */
export const OEPL_DEFAULT_CANVAS: OeplCanvas = { width: 296, height: 128, name: 'M2 2.9"' };

export function oeplCanvas(hwType: number | undefined): OeplCanvas {
  return (hwType === undefined ? undefined : OEPL_TAG_TYPES.get(hwType)) ?? OEPL_DEFAULT_CANVAS;
}

/** A scalable font on every AP (data/fonts/Signika-SB.ttf); its glyphs are about this wide per pixel of size */
export const OEPL_TTF = 'fonts/Signika-SB.ttf';
export const TTF_CHAR_WIDTH = 0.6;

type Content = Pick<LabelContent, 'productName' | 'priceCents' | 'sku'>;

/**
 * The drawing commands for `content` on `canvas`. The 2.9" layout is the one the gateway always sent (296 × 128, its
 * fonts), so labels already showing a price are not redrawn; every other size scales name, price and SKU to its canvas.
 */
export function oeplPriceLayout(content: Content, price: string, canvas: OeplCanvas = OEPL_DEFAULT_CANVAS): unknown[] {
  if (canvas.width === 296 && canvas.height === 128) {
    return [
      { text: [4, 4, content.productName.slice(0, 40), 'fonts/bahnschrift20', 1] },
      { text: [4, 40, price, 'fonts/bahnschrift70', 2] },
      { text: [4, 112, content.sku.slice(0, 32), 'glasstown_nbp_tf', 1] },
    ];
  }
  const margin = Math.max(3, Math.round(canvas.width * 0.015));
  const inner = canvas.width - 2 * margin;
  const nameSize = clamp(Math.round(canvas.height * 0.13), 14, 48);
  const skuSize = clamp(Math.round(canvas.height * 0.08), 10, 28);
  const nameChars = Math.max(8, Math.floor(inner / (nameSize * TTF_CHAR_WIDTH)));
  const skuChars = Math.max(8, Math.floor(inner / (skuSize * TTF_CHAR_WIDTH)));
  const priceTop = margin + nameSize + margin;
  const priceBottom = canvas.height - margin - skuSize - margin;
  // as big as fits: the height between name and SKU, and the width for the price's characters
  const priceSize = Math.max(12, Math.floor(Math.min(priceBottom - priceTop, inner / (price.length * TTF_CHAR_WIDTH))));
  return [
    { text: [margin, margin, content.productName.slice(0, nameChars), OEPL_TTF, 1, 0, nameSize] },
    { text: [margin, priceTop, price, OEPL_TTF, 2, 0, priceSize] },
    { text: [margin, canvas.height - margin - skuSize, content.sku.slice(0, skuChars), OEPL_TTF, 1, 0, skuSize] },
  ];
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
