import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../edge/alerts/alerts.js';
import { foldPredictions } from '../../../dashboards/staff/src/views/alerts/alert-folding.js';

const alert = (id: string, over: Partial<Alert>): Alert => ({
  id,
  kind: 'low-stock',
  key: `${over.kind ?? 'low-stock'}:${id}`,
  state: 'open',
  severity: 'warning',
  title: id,
  openedAt: 0,
  updatedAt: 0,
  ...over,
});

describe('foldPredictions', () => {
  it("folds a facing's prediction into its low-stock line and keeps the order of everything else", () => {
    const kiosk = alert('kiosk', { kind: 'kiosk-assist', deviceId: 'kiosk-1' });
    const predictedA1 = alert('pred-a1', { kind: 'stock-out-predicted', shelfId: 'shelf-a', facing: 1 });
    const lowA1 = alert('low-a1', { shelfId: 'shelf-a', facing: 1 });
    const predictedA2 = alert('pred-a2', { kind: 'stock-out-predicted', shelfId: 'shelf-a', facing: 2 }); // no low-stock: stays
    const lowB1 = alert('low-b1', { shelfId: 'shelf-b', facing: 1 });
    const { rows, predictions } = foldPredictions([kiosk, predictedA1, lowA1, predictedA2, lowB1]);
    expect(rows.map((a) => a.id)).toEqual(['kiosk', 'low-a1', 'pred-a2', 'low-b1']);
    expect([...predictions]).toEqual([['low-a1', predictedA1]]);
  });

  it('folds nothing when the low-stock alert is not in the list (filtered out)', () => {
    const predicted = alert('pred', { kind: 'stock-out-predicted', shelfId: 'shelf-a', facing: 1 });
    expect(foldPredictions([predicted])).toEqual({ rows: [predicted], predictions: new Map() });
  });
});
