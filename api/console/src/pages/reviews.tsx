// The review queue (risk analysts, admins): open reviews soonest due first, kept current by the
// server's event stream; opening one claims it; the evidence beside the list; a decision with
// a note. Keyboard: j/k (or ↓/↑) move, Enter opens, a approves, r rejects, Esc closes a dialog.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get, post, readEvents } from '../api';
import { useNow } from '../components/clock';
import { Dialog, ReasonForm } from '../components/dialog';
import type { TravelMap } from '../components/travel-map';
import { Notice, errorText } from '../components/messages';
import { formatDuration, formatMoney, formatTime, shortId } from '../format';
import { useLang, useT, useTerm } from '../i18n';
import type { Me } from '../session';
import { useSettings, workflowUrl } from '../settings';

interface Claim {
  by: string;
  since: string;
  lapsesAt: string;
}

interface QueuedReview {
  id: string;
  kind: 'order' | 'claim';
  orderId: string;
  score: number;
  topReasons: string[];
  items: { sku: string; quantity: number }[];
  buyerId: string;
  deadline: string;
  createdAt: string;
  claim: Claim | null;
}

interface Place {
  label: string;
  at: string;
  ip: string;
  geo: { country?: string; city?: string | null; lat: number; lon: number } | null;
}

interface Evidence {
  id: string;
  kind: 'order' | 'claim';
  status: string;
  score: number;
  topReasons: string[];
  deadline: string;
  onDeadline: 'approve' | 'reject';
  createdAt: string;
  claim: Claim | null;
  order: {
    id: string;
    workflowId: string;
    externalOrderId: string;
    status: string;
    amount: { minor: number; currency: string };
    items: { sku: string; quantity: number }[];
    buyer: { id: string; ip: string; deviceId: string | null };
    createdAt: string;
  };
  assessment: { verdict: { results: { rule: string; score: number; reason: string }[]; reasons: string[] } | null };
  travel: { from: Place | null; to: Place | null; distanceKm?: number; impliedSpeedKmh?: number } | null;
  buyerRecentOrders: {
    id: string;
    status: string;
    amount: { minor: number; currency: string };
    items: { sku: string; quantity: number }[];
    ip: string;
    createdAt: string;
    claimed: boolean;
  }[];
}

/** How often an open review's claim is renewed: well inside the ten minutes it lapses after. */
const RENEW_MS = 60_000;

/** Enter on a link, button or disclosure does what it always does, not open a review. */
const interactive = (target: EventTarget | null) =>
  target instanceof HTMLElement && target.closest('a, button, summary') !== null;

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

export function ReviewsPage(props: { me: Me }) {
  const t = useT();
  const [reviews, setReviews] = useState<QueuedReview[] | null>(null);
  const [live, setLive] = useState(false);
  const [selected, setSelected] = useState(0);
  const [openId, setOpenId] = useState<string | null>(null);
  const [evidence, setEvidence] = useState<Evidence | null>(null);
  const [claimError, setClaimError] = useState<string | null>(null);
  const [deciding, setDeciding] = useState<'approve' | 'reject' | null>(null);
  const [decisionError, setDecisionError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);

  // The queue: the stream's snapshots; polling the list if the stream cannot be read.
  useEffect(() => {
    const stop = new AbortController();
    let poll: ReturnType<typeof setInterval> | undefined;
    const load = () =>
      get<{ reviews: QueuedReview[] }>('/v1/risk/reviews?order=deadline&limit=100')
        .then((page) => setReviews(page.reviews))
        .catch(() => undefined);
    void load();
    readEvents('/v1/risk/reviews/stream', stop.signal, (event, data) => {
      if (event !== 'queue') return;
      setLive(true);
      setReviews((JSON.parse(data) as { reviews: QueuedReview[] }).reviews);
    })
      .catch(() => undefined)
      .finally(() => {
        setLive(false);
        if (!stop.signal.aborted) poll = setInterval(load, 5_000);
      });
    return () => {
      stop.abort();
      clearInterval(poll);
    };
  }, []);

  const list = reviews ?? [];
  const index = Math.min(selected, Math.max(0, list.length - 1));

  // Opening claims the review (and gives back the previous one); the claim is renewed while open.
  const open = async (id: string) => {
    if (openId && openId !== id) void api('DELETE', `/v1/risk/reviews/${openId}/claim`).catch(() => undefined);
    setOpenId(id);
    setEvidence(null);
    setClaimError(null);
    setNotice(null);
    // Another analyst's claim (the queue shows it) is left alone: the review opens to read.
    const holder = list.find((r) => r.id === id)?.claim;
    if (!holder || holder.by === `client:${props.me.name}`) {
      try {
        await post(`/v1/risk/reviews/${id}/claim`);
      } catch (err) {
        setClaimError(errorText(t, err));
      }
    }
    try {
      setEvidence(await get<Evidence>(`/v1/risk/reviews/${id}`));
    } catch (err) {
      setClaimError(errorText(t, err));
    }
  };
  // Leaving the queue gives the open review back (else it would wait out the lapse).
  const openRef = useRef<string | null>(null);
  openRef.current = openId;
  useEffect(
    () => () => {
      if (openRef.current) void api('DELETE', `/v1/risk/reviews/${openRef.current}/claim`).catch(() => undefined);
    },
    [],
  );
  useEffect(() => {
    if (!openId || claimError) return;
    const timer = setInterval(() => void post(`/v1/risk/reviews/${openId}/claim`).catch(() => undefined), RENEW_MS);
    return () => clearInterval(timer);
  }, [openId, claimError]);

  const heldByOther = evidence?.claim && evidence.claim.by !== `client:${props.me.name}` ? evidence.claim : null;
  const decide = async (decision: 'approve' | 'reject', note: string) => {
    if (!openId) return;
    setBusy(true);
    setDecisionError(undefined);
    try {
      const result = await post<{ status: string }>(`/v1/risk/reviews/${openId}/decision`, { decision, note });
      setNotice(t(result.status === 'approved' ? 'reviews.approvedDone' : 'reviews.rejectedDone'));
      setDeciding(null);
      setOpenId(null);
      setEvidence(null);
      setReviews((current) => (current ?? []).filter((r) => r.id !== openId));
      listRef.current?.focus();
    } catch (err) {
      setDecisionError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  // The keyboard, anywhere on the page except while typing or in a dialog.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (deciding || typing(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      const current = list[index];
      if (e.key === 'j' || e.key === 'ArrowDown') setSelected(Math.min(index + 1, list.length - 1));
      else if (e.key === 'k' || e.key === 'ArrowUp') setSelected(Math.max(index - 1, 0));
      else if (e.key === 'Enter' && current && !interactive(e.target)) void open(current.id);
      else if ((e.key === 'a' || e.key === 'r') && openId && evidence && !heldByOther) {
        setDecisionError(undefined);
        setDeciding(e.key === 'a' ? 'approve' : 'reject');
      } else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  useEffect(() => {
    listRef.current?.querySelector<HTMLElement>('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [index]);

  return (
    <div class="reviews">
      <section class="panel queue" aria-labelledby="queue-title">
        <div class="row between">
          <h1 id="queue-title">{t('reviews.title')}</h1>
          <span class={`badge ${live ? 'ok' : ''}`}>{live ? t('reviews.live') : t('reviews.polling')}</span>
        </div>
        <p class="hint">{t('reviews.keys')}</p>
        <Notice text={notice} />
        {reviews === null ? (
          <p>{t('common.loading')}</p>
        ) : list.length === 0 ? (
          <p>{t('reviews.empty')}</p>
        ) : (
          <ol
            ref={listRef}
            class="queue-list"
            role="listbox"
            tabIndex={0}
            aria-label={t('reviews.title')}
            aria-activedescendant={list[index] ? `review-${list[index]!.id}` : undefined}
          >
            {list.map((r, i) => (
              <QueueRow
                key={r.id}
                review={r}
                selected={i === index}
                opened={r.id === openId}
                onOpen={() => {
                  setSelected(i);
                  void open(r.id);
                }}
              />
            ))}
          </ol>
        )}
      </section>
      <section class="panel detail" aria-labelledby="detail-title">
        {!openId ? (
          <>
            <h2 id="detail-title">{t('reviews.detail')}</h2>
            <p>{t('reviews.pick')}</p>
          </>
        ) : (
          <>
            {claimError && <Notice kind="error" text={claimError} />}
            {evidence ? (
              <EvidenceView
                evidence={evidence}
                heldByOther={heldByOther}
                onDecide={(d) => {
                  setDecisionError(undefined);
                  setDeciding(d);
                }}
              />
            ) : (
              <h2 id="detail-title">{t('common.loading')}</h2>
            )}
          </>
        )}
      </section>
      <Dialog
        open={deciding !== null}
        title={deciding === 'approve' ? t('reviews.approveTitle') : t('reviews.rejectTitle')}
        onClose={() => setDeciding(null)}
      >
        {deciding && (
          <ReasonForm
            label={t('reviews.note')}
            confirm={deciding === 'approve' ? t('reviews.approve') : t('reviews.reject')}
            danger={deciding === 'reject'}
            busy={busy}
            error={decisionError}
            onSubmit={(note) => void decide(deciding, note)}
          />
        )}
      </Dialog>
    </div>
  );
}

function QueueRow(props: { review: QueuedReview; selected: boolean; opened: boolean; onOpen: () => void }) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  const now = useNow();
  const r = props.review;
  const left = Date.parse(r.deadline) - now;
  return (
    <li
      id={`review-${r.id}`}
      role="option"
      aria-selected={props.selected}
      class={`queue-row ${props.selected ? 'selected' : ''} ${props.opened ? 'opened' : ''}`}
      onClick={props.onOpen}
    >
      <div class="row between">
        <span class="score" aria-label={t('reviews.scoreOf', { score: r.score })}>
          {r.score}
        </span>
        <span class="skus">{r.items.map((i) => `${i.sku} ×${i.quantity}`).join(', ')}</span>
        <span class={`countdown ${left < 5 * 60_000 ? 'urgent' : ''}`}>
          {left > 0 ? t('reviews.dueIn', { time: formatDuration(lang, left) }) : t('reviews.overdue')}
        </span>
      </div>
      <div class="reasons">{r.topReasons.slice(0, 2).join(' · ')}</div>
      <div class="row between meta">
        <span>
          {term('kind', r.kind)} · {t('reviews.age', { time: formatDuration(lang, now - Date.parse(r.createdAt)) })}
        </span>
        {r.claim ? (
          <span class="badge warn">{t('reviews.heldBy', { name: r.claim.by.replace(/^client:/, '') })}</span>
        ) : (
          <span class="badge">{t('reviews.unclaimed')}</span>
        )}
      </div>
    </li>
  );
}

function EvidenceView(props: {
  evidence: Evidence;
  heldByOther: Claim | null;
  onDecide: (d: 'approve' | 'reject') => void;
}) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  const now = useNow();
  const settings = useSettings();
  const e = props.evidence;
  const link = workflowUrl(settings, e.order.workflowId);
  const left = Date.parse(e.deadline) - now;
  return (
    <article class="stack">
      <div class="row between wrap">
        <h2 id="detail-title">{t('reviews.reviewOf', { kind: term('kind', e.kind), id: e.order.externalOrderId })}</h2>
        <span class="score big">
          <span class="hint">{t('reviews.score')} </span>
          {e.score}
        </span>
      </div>
      <dl class="facts">
        <dt>{t('reviews.deadline')}</dt>
        <dd>
          {formatTime(lang, e.deadline)} (
          {left > 0 ? t('reviews.dueIn', { time: formatDuration(lang, left) }) : t('reviews.overdue')};{' '}
          {t('reviews.onDeadline', { decision: term('decision', e.onDeadline) })})
        </dd>
        <dt>{t('reviews.claim')}</dt>
        <dd>
          {e.claim
            ? t('reviews.heldUntil', {
                name: e.claim.by.replace(/^client:/, ''),
                time: formatTime(lang, e.claim.lapsesAt),
              })
            : t('reviews.unclaimed')}
        </dd>
        <dt>{t('orders.order')}</dt>
        <dd>
          {shortId(e.order.id)} · {term('status', e.order.status)} · {formatMoney(lang, e.order.amount)} ·{' '}
          {e.order.items.map((i) => `${i.sku} ×${i.quantity}`).join(', ')}
          {link && (
            <>
              {' · '}
              <a href={link} target="_blank" rel="noreferrer">
                {t('common.temporal')}
              </a>
            </>
          )}
        </dd>
        <dt>{t('reviews.buyer')}</dt>
        <dd>
          {e.order.buyer.id} · {e.order.buyer.ip}
          {e.order.buyer.deviceId ? ` · ${e.order.buyer.deviceId}` : ''}
        </dd>
      </dl>
      {props.heldByOther ? (
        <p class="notice warn" role="status">
          {t('reviews.heldByOther', { name: props.heldByOther.by.replace(/^client:/, '') })}
        </p>
      ) : (
        <div class="row">
          <button type="button" class="primary" onClick={() => props.onDecide('approve')}>
            {t('reviews.approve')} <kbd>a</kbd>
          </button>
          <button type="button" class="danger" onClick={() => props.onDecide('reject')}>
            {t('reviews.reject')} <kbd>r</kbd>
          </button>
        </div>
      )}
      <Travel travel={e.travel} />
      <h3>{t('reviews.rules')}</h3>
      {e.assessment.verdict ? (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('reviews.rule')}</th>
                <th scope="col" class="num">
                  {t('reviews.score')}
                </th>
                <th scope="col">{t('reviews.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {[...e.assessment.verdict.results]
                .sort((a, b) => b.score - a.score)
                .map((r) => (
                  <tr key={r.rule} class={r.score > 0 ? 'fired' : ''}>
                    <td>{term('rule', r.rule)}</td>
                    <td class="num">{r.score}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>{t('reviews.noVerdict')}</p>
      )}
      <h3>{t('reviews.recent')}</h3>
      {e.buyerRecentOrders.length === 0 ? (
        <p>{t('reviews.noRecent')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('common.time')}</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('common.items')}</th>
                <th scope="col" class="num">
                  {t('common.amount')}
                </th>
                <th scope="col">{t('reviews.address')}</th>
                <th scope="col">{t('reviews.claimed')}</th>
              </tr>
            </thead>
            <tbody>
              {e.buyerRecentOrders.map((o) => (
                <tr key={o.id}>
                  <td>{formatTime(lang, o.createdAt)}</td>
                  <td>{term('status', o.status)}</td>
                  <td>{o.items.map((i) => `${i.sku} ×${i.quantity}`).join(', ')}</td>
                  <td class="num">{formatMoney(lang, o.amount)}</td>
                  <td>{o.ip}</td>
                  <td>{o.claimed ? t('common.yes') : t('common.no')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}

/** Both addresses on a small map (its own chunk), how far apart, how fast the buyer would have moved. */
function Travel(props: { travel: Evidence['travel'] }) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  const travel = props.travel;
  const where = (p: Place) => (p.geo ? [p.geo.city, p.geo.country].filter(Boolean).join(', ') : t('reviews.unlocated'));
  const ends = travel
    ? [
        { mark: 'A', place: travel.from },
        { mark: 'B', place: travel.to },
      ]
    : [];
  const located = ends.flatMap(({ mark, place }) =>
    place?.geo
      ? [{ mark, name: `${term('place', place.label)}: ${where(place)}`, lon: place.geo.lon, lat: place.geo.lat }]
      : [],
  );
  const distance =
    travel?.distanceKm !== undefined
      ? t('reviews.distance', {
          km: travel.distanceKm.toLocaleString(),
          speed: (travel.impliedSpeedKmh ?? 0).toLocaleString(),
        })
      : t('reviews.noDistance');
  const MapView = useTravelMap(located.length > 0);
  const place = (mark: string, p: Place | null) =>
    p ? (
      <div class="place">
        <strong>
          {p.geo && (
            <span class={`mark-key mark-${mark.toLowerCase()}`} aria-hidden="true">
              {mark}
            </span>
          )}
          {term('place', p.label)}
        </strong>
        <span>{where(p)}</span>
        <span class="mono">{p.ip}</span>
        <span>{formatTime(lang, p.at)}</span>
      </div>
    ) : (
      <div class="place">
        <span>{t('reviews.noPrevious')}</span>
      </div>
    );
  return (
    <section aria-labelledby="travel-title">
      <h3 id="travel-title">{t('reviews.travel')}</h3>
      {!travel ? (
        <p>{t('reviews.noTravel')}</p>
      ) : (
        <div class="travel">
          {located.length > 0 && (
            <div class="map-frame">
              {MapView ? (
                <MapView
                  places={located}
                  title={t('reviews.map', { places: located.map((l) => `${l.mark} ${l.name}`).join('; '), distance })}
                />
              ) : (
                <p class="hint">{t('common.loading')}</p>
              )}
            </div>
          )}
          {place('A', travel.from)}
          {place('B', travel.to)}
          <p class="distance">{distance}</p>
        </div>
      )}
    </section>
  );
}

type TravelMapComponent = typeof TravelMap;

/** The map's module (d3-geo and the land outlines), loaded the first time a located review opens. */
function useTravelMap(wanted: boolean): TravelMapComponent | null {
  const [view, setView] = useState<TravelMapComponent | null>(null);
  useEffect(() => {
    if (wanted && !view) void import('../components/travel-map').then((m) => setView(() => m.TravelMap));
  }, [wanted]);
  return view;
}
