// Whether a delivered unit can still be undone (refunded, or compensated). A unit is undone
// once: after a refund or a replacement it is no longer `delivered`, and every later action
// on it stands down. A key the rights owner reports redeemed was used: undoing its sale gives
// the buyer the goods and the money, so only an admin's override allows it.
export type UnitActionRefusal = 'unit_not_delivered' | 'key_redeemed';

export function unitActionRefusal(
  unit: { status: string; keyStatus: string | null },
  options: { override?: boolean | undefined } = {},
): UnitActionRefusal | null {
  if (unit.status !== 'delivered') return 'unit_not_delivered';
  if (unit.keyStatus === 'redeemed' && !options.override) return 'key_redeemed';
  return null;
}

/** The outcome of a buyer's report closed unconfirmed because its unit was refunded meanwhile. */
export const SUPERSEDED = 'superseded';
