// A risk analyst's claim on a review: opening a review claims it, so two analysts do not work
// one case. The claim lasts while its holder keeps working (the console renews it); after
// CLAIM_LAPSE_MS without a sign of work anyone may take it, as Sift's case claims lapse.

/** How long a claim holds after its holder's last sign of work. */
export const CLAIM_LAPSE_MS = 10 * 60_000;

export interface ClaimFields {
  claimedBy: string | null;
  claimedByClientId: string | null;
  claimedAt: Date | null;
  claimSeenAt: Date | null;
}

export interface ActiveClaim {
  by: string;
  clientId: string;
  since: Date;
  lapsesAt: Date;
}

/** The claim that holds at `now`, or null (never claimed, or lapsed). */
export function activeClaim(review: ClaimFields, now: Date): ActiveClaim | null {
  if (!review.claimedByClientId || !review.claimedBy || !review.claimedAt || !review.claimSeenAt) return null;
  const lapsesAt = new Date(review.claimSeenAt.getTime() + CLAIM_LAPSE_MS);
  if (lapsesAt <= now) return null;
  return { by: review.claimedBy, clientId: review.claimedByClientId, since: review.claimedAt, lapsesAt };
}

/** Whether `clientId` may act on the review at `now`: nobody else holds it. */
export function mayWork(review: ClaimFields, clientId: string, now: Date): boolean {
  const claim = activeClaim(review, now);
  return claim === null || claim.clientId === clientId;
}
