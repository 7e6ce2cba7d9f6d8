// The support desk: find an order by id, external id, buyer, top-up account or the code the
// buyer reads out; the order with its units and the actions support takes on them (reissue or
// refund a bad key, confirm a buyer's report, refund units, reveal one code — each with a
// reason, audited by the API); and the order's timeline, headed by the subscription the order
// renews when it is a period's order. The order open is in the URL.
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api';
import { Dialog, ReasonForm } from '../components/dialog';
import { Notice, errorText } from '../components/messages';
import { type Money, formatMoney, formatTime, shortId } from '../format';
import { type MessageKey, hasMessage, useLang, useT, useTerm } from '../i18n';
import { navigate, useLocation } from '../router';
import type { Me } from '../session';
import { useSettings, workflowUrl } from '../settings';

type SearchKind = 'id' | 'external' | 'buyer' | 'account' | 'code';

interface Found {
  id: string;
  externalOrderId: string;
  status: string;
  client?: string;
  buyerId?: string;
  sku?: string;
  unitStatus?: string;
  createdAt?: string;
}

interface Compensation {
  id: string;
  action: string;
  status: string;
  outcome?: string;
  trigger: string;
  reason: string;
  newUnitId?: string;
}

interface Unit {
  id: string;
  status: string;
  source?: { kind: string; supplier?: string };
  reason?: string;
  replacesUnitId?: string;
  compensations?: Compensation[];
}

interface Order {
  id: string;
  externalOrderId: string;
  status: string;
  amount: Money;
  items: { sku: string; quantity: number; account?: string; units: Unit[] }[];
  createdAt: string;
}

interface TimelineEntry {
  at: string;
  source: string;
  event: string;
  unitId?: string;
  actor?: string;
  reason?: string;
  data?: Record<string, unknown>;
}

/** The subscription whose period this order charged (a renewal's order), when it is one. */
interface OrderSubscription {
  id: string;
  externalSubscriptionId: string;
  periodNumber: number;
  status: string;
  sku: string;
  period: string;
}

interface Timeline {
  workflowId: string;
  entries: TimelineEntry[];
  incomplete?: string[];
  subscription?: OrderSubscription | null;
}

type Action =
  | { kind: 'reissue' | 'compensateRefund' | 'confirm' | 'reveal'; unit: Unit; confirmAs?: 'reissue' | 'refund' }
  | { kind: 'refundUnits'; units: Unit[] };

export function SupportPage(_props: { me: Me }) {
  const t = useT();
  const { query } = useLocation();
  const orderId = query.get('order');
  const [found, setFound] = useState<Found[] | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [searching, setSearching] = useState(false);

  const search = async (kind: SearchKind, value: string, sku: string) => {
    setSearching(true);
    setSearchError(null);
    setFound(null);
    try {
      if (kind === 'id') {
        openOrder(value);
        return;
      }
      if (kind === 'external') {
        const order = await get<Order>(`/v1/orders?externalOrderId=${encodeURIComponent(value)}`);
        openOrder(order.id);
        return;
      }
      if (kind === 'code') {
        const result = await post<{
          matches: { orderId: string; externalOrderId: string; orderStatus: string; sku: string; unitStatus: string }[];
        }>('/v1/orders/search-by-code', { code: value, ...(sku ? { sku } : {}) });
        setFound(
          result.matches.map((m) => ({
            id: m.orderId,
            externalOrderId: m.externalOrderId,
            status: m.orderStatus,
            sku: m.sku,
            unitStatus: m.unitStatus,
          })),
        );
        return;
      }
      const param = kind === 'buyer' ? 'buyerId' : 'account';
      const page = await get<{ orders: (Found & { items: { sku: string }[] })[] }>(
        `/v1/orders?${param}=${encodeURIComponent(value)}&limit=50`,
      );
      setFound(page.orders.map((o) => ({ ...o, sku: o.items.map((i) => i.sku).join(', ') })));
    } catch (err) {
      setSearchError(errorText(t, err));
    } finally {
      setSearching(false);
    }
  };

  const openOrder = (id: string) => navigate(`/support?order=${encodeURIComponent(id.trim())}`);

  return (
    <div class="support stack">
      <section class="panel" aria-labelledby="search-title">
        <h1 id="search-title">{t('support.title')}</h1>
        <SearchForm busy={searching} onSearch={search} />
        {searchError && <Notice kind="error" text={searchError} />}
        {found && <Results found={found} onOpen={openOrder} />}
      </section>
      {orderId && <OrderView key={orderId} orderId={orderId} />}
    </div>
  );
}

function SearchForm(props: { busy: boolean; onSearch: (kind: SearchKind, value: string, sku: string) => void }) {
  const t = useT();
  const [kind, setKind] = useState<SearchKind>('buyer');
  const kinds: SearchKind[] = ['id', 'external', 'buyer', 'account', 'code'];
  return (
    <form
      class="search"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const value = String(form.get('value') ?? '').trim();
        if (value) props.onSearch(kind, value, String(form.get('sku') ?? '').trim());
      }}
    >
      <div class="field">
        <label for="search-kind">{t('support.searchBy')}</label>
        <select
          id="search-kind"
          name="kind"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as SearchKind)}
        >
          {kinds.map((k) => (
            <option key={k} value={k}>
              {t(`support.by.${k}`)}
            </option>
          ))}
        </select>
      </div>
      <label class="field grow">
        <span>{t(`support.value.${kind}`)}</span>
        <input
          name="value"
          required
          autoComplete="off"
          spellcheck={false}
          type={kind === 'code' ? 'password' : 'search'}
        />
      </label>
      {kind === 'code' && (
        <label class="field">
          <span>{t('support.skuOptional')}</span>
          <input name="sku" autoComplete="off" />
        </label>
      )}
      <button type="submit" class="primary" disabled={props.busy}>
        {t('support.search')}
      </button>
    </form>
  );
}

function Results(props: { found: Found[]; onOpen: (id: string) => void }) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  if (props.found.length === 0) return <p role="status">{t('support.none')}</p>;
  return (
    <div class="table-wrap" tabIndex={0}>
      <table>
        <caption class="sr-only">{t('support.results')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('orders.externalId')}</th>
            <th scope="col">{t('common.status')}</th>
            <th scope="col">{t('common.items')}</th>
            <th scope="col">{t('orders.client')}</th>
            <th scope="col">{t('common.time')}</th>
            <th scope="col">
              <span class="sr-only">{t('common.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.found.map((f) => (
            <tr key={`${f.id}-${f.sku ?? ''}`}>
              <td class="mono">{f.externalOrderId}</td>
              <td>
                {term('status', f.status)}
                {f.unitStatus ? ` (${t('support.unit')}: ${term('unitStatus', f.unitStatus)})` : ''}
              </td>
              <td>{f.sku ?? ''}</td>
              <td>{f.client ?? ''}</td>
              <td>{f.createdAt ? formatTime(lang, f.createdAt) : ''}</td>
              <td>
                <button type="button" onClick={() => props.onOpen(f.id)}>
                  {t('support.open')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OrderView(props: { orderId: string }) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  const settings = useSettings();
  const [order, setOrder] = useState<Order | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [action, setAction] = useState<Action | null>(null);
  const [actionError, setActionError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [revealed, setRevealed] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());

  const load = async () => {
    try {
      const [o, tl] = await Promise.all([
        get<Order>(`/v1/orders/${encodeURIComponent(props.orderId)}`),
        get<Timeline>(`/v1/orders/${encodeURIComponent(props.orderId)}/timeline`),
      ]);
      setOrder(o);
      setTimeline(tl);
      setError(null);
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  useEffect(() => {
    void load();
  }, [props.orderId]);

  const run = async (reason: string) => {
    if (!action || !order) return;
    setBusy(true);
    setActionError(undefined);
    try {
      if (action.kind === 'reveal') {
        const res = await post<{ code: string }>(`/v1/orders/${order.id}/units/${action.unit.id}/reveal`, { reason });
        setRevealed(res.code);
        return;
      }
      if (action.kind === 'refundUnits') {
        const res = await post<{ status?: string }>(`/v1/orders/${order.id}/refunds`, {
          unitIds: action.units.map((u) => u.id),
          reason,
        });
        setNotice(t('support.refundStarted', { status: term('refundStatus', res.status ?? 'pending') }));
      } else {
        const compAction =
          action.kind === 'confirm'
            ? (action.confirmAs ?? 'reissue')
            : action.kind === 'reissue'
              ? 'reissue'
              : 'refund';
        const res = await post<Compensation>(`/v1/orders/${order.id}/units/${action.unit.id}/compensations`, {
          action: compAction,
          reason,
        });
        setNotice(
          res.status === 'completed'
            ? t('support.compensated', { outcome: term('outcome', res.outcome ?? '') })
            : t('support.compensationRunning'),
        );
      }
      setAction(null);
      setSelected(new Set());
      await load();
    } catch (err) {
      setActionError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  if (error) return <Notice kind="error" text={error} />;
  if (!order || !timeline) return <p>{t('common.loading')}</p>;
  const link = workflowUrl(settings, timeline.workflowId);
  const units = order.items.flatMap((item) => item.units.map((u) => ({ item, unit: u })));
  const awaiting = (u: Unit) => u.compensations?.find((c) => c.status === 'awaiting_confirmation');
  const dialogTitle: Record<Action['kind'], MessageKey> = {
    reissue: 'support.reissueTitle',
    compensateRefund: 'support.compensateRefundTitle',
    confirm: 'support.confirmTitle',
    reveal: 'support.revealTitle',
    refundUnits: 'support.refundUnitsTitle',
  };

  return (
    <>
      <section class="panel" aria-labelledby="order-title">
        <div class="row between wrap">
          <h2 id="order-title">{t('support.orderTitle', { id: order.externalOrderId })}</h2>
          {link && (
            <a href={link} target="_blank" rel="noreferrer">
              {t('common.temporal')}
            </a>
          )}
        </div>
        <dl class="facts">
          <dt>{t('common.status')}</dt>
          <dd>{term('status', order.status)}</dd>
          <dt>{t('common.amount')}</dt>
          <dd>{formatMoney(lang, order.amount)}</dd>
          <dt>{t('orders.id')}</dt>
          <dd class="mono">{order.id}</dd>
          <dt>{t('common.time')}</dt>
          <dd>{formatTime(lang, order.createdAt)}</dd>
        </dl>
        <Notice text={notice} />
        <h3>{t('support.units')}</h3>
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">
                  <span class="sr-only">{t('support.select')}</span>
                </th>
                <th scope="col">{t('support.unit')}</th>
                <th scope="col">SKU</th>
                <th scope="col">{t('common.status')}</th>
                <th scope="col">{t('support.source')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {units.map(({ item, unit }) => {
                const delivered = unit.status === 'delivered';
                const report = awaiting(unit);
                return (
                  <tr key={unit.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={t('support.selectUnit', { id: shortId(unit.id) })}
                        disabled={!delivered}
                        checked={selected.has(unit.id)}
                        onChange={(e) => {
                          const next = new Set(selected);
                          if (e.currentTarget.checked) next.add(unit.id);
                          else next.delete(unit.id);
                          setSelected(next);
                        }}
                      />
                    </td>
                    <td class="mono">
                      {shortId(unit.id)}
                      {unit.replacesUnitId && (
                        <span class="hint"> {t('support.replaces', { id: shortId(unit.replacesUnitId) })}</span>
                      )}
                    </td>
                    <td>{item.sku}</td>
                    <td>
                      {term('unitStatus', unit.status)}
                      {report && <span class="badge warn">{t('support.reported')}</span>}
                      {unit.reason && <div class="hint">{unit.reason}</div>}
                    </td>
                    <td>{unit.source ? (unit.source.supplier ?? term('source', unit.source.kind)) : '—'}</td>
                    <td>
                      <div class="row wrap">
                        {report ? (
                          <button
                            type="button"
                            onClick={() => setAction({ kind: 'confirm', unit, confirmAs: 'reissue' })}
                          >
                            {t('support.confirm')}
                          </button>
                        ) : null}
                        <button
                          type="button"
                          disabled={!delivered}
                          onClick={() => setAction({ kind: 'reissue', unit })}
                        >
                          {t('support.reissue')}
                        </button>
                        <button
                          type="button"
                          disabled={!delivered}
                          onClick={() => setAction({ kind: 'compensateRefund', unit })}
                        >
                          {t('support.compensateRefund')}
                        </button>
                        <button
                          type="button"
                          disabled={!delivered || item.account !== undefined}
                          onClick={() => {
                            setRevealed(null);
                            setAction({ kind: 'reveal', unit });
                          }}
                        >
                          {t('support.reveal')}
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <div class="row">
          <button
            type="button"
            disabled={selected.size === 0}
            onClick={() =>
              setAction({ kind: 'refundUnits', units: units.map((u) => u.unit).filter((u) => selected.has(u.id)) })
            }
          >
            {t('support.refundSelected', { n: selected.size })}
          </button>
        </div>
      </section>
      <TimelineView timeline={timeline} />
      <Dialog
        open={action !== null}
        title={action ? t(dialogTitle[action.kind]) : ''}
        onClose={() => {
          setAction(null);
          setRevealed(null);
        }}
      >
        {action && revealed !== null ? (
          <div class="stack">
            <p>{t('support.revealedWarning')}</p>
            <output class="code mono" aria-label={t('support.code')}>
              {revealed}
            </output>
            <div class="row end">
              <button
                type="button"
                class="primary"
                onClick={() => {
                  setRevealed(null);
                  setAction(null);
                }}
              >
                {t('common.close')}
              </button>
            </div>
          </div>
        ) : action ? (
          <ReasonForm
            label={t('support.reason')}
            confirm={t(action.kind === 'reveal' ? 'support.revealConfirm' : 'common.confirm')}
            danger={action.kind !== 'confirm'}
            busy={busy}
            error={actionError}
            onSubmit={(reason) => void run(reason)}
          >
            <p>
              {action.kind === 'refundUnits'
                ? t('support.refundUnitsText', { n: action.units.length })
                : t(`support.${action.kind}Text`, { id: shortId(action.unit.id) })}
            </p>
          </ReasonForm>
        ) : null}
      </Dialog>
    </>
  );
}

function TimelineView(props: { timeline: Timeline }) {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t('timeline.title')}</h2>
      {props.timeline.subscription && <SubscriptionOf subscription={props.timeline.subscription} />}
      {props.timeline.incomplete && <p class="notice warn">{t('timeline.incomplete')}</p>}
      <ol class="timeline">
        {props.timeline.entries.map((e, i) => {
          const key = `timeline.${e.source}.${e.event}`;
          return (
            <li key={i} class={`source-${e.source}`}>
              <time dateTime={e.at}>{formatTime(lang, e.at)}</time>
              <span class="badge">{term('source', e.source)}</span>
              <span class="what">
                {hasMessage(key) ? t(key) : `${e.source} ${e.event}`}
                {e.data?.status !== undefined &&
                  ` · ${term(e.source === 'subscription' ? 'subscriptionStatus' : 'status', String(e.data.status))}`}
                {e.unitId && ` · ${t('support.unit')} ${shortId(e.unitId)}`}
              </span>
              {(e.actor || e.reason) && (
                <span class="who">
                  {e.actor ? `${e.actor.replace(/^client:/, '')}` : ''}
                  {e.actor && e.reason ? ': ' : ''}
                  {e.reason ?? ''}
                </span>
              )}
              {e.data && <Details data={e.data} />}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** "This order is period 3 of subscription sub-42 (active, vip-1m, month)." */
function SubscriptionOf(props: { subscription: OrderSubscription }) {
  const t = useT();
  const term = useTerm();
  const s = props.subscription;
  return (
    <p class="belongs" data-subscription={s.id}>
      {t('timeline.subscriptionOf', {
        n: s.periodNumber,
        id: s.externalSubscriptionId,
        status: term('subscriptionStatus', s.status),
        sku: s.sku,
        period: term('period', s.period),
      })}
    </p>
  );
}

/** An entry's data as short `key value` pairs (amounts as money, nested lists flattened). */
function Details(props: { data: Record<string, unknown> }) {
  const { lang } = useLang();
  const show = (v: unknown): string => {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'object' && v !== null && 'minor' in v && 'currency' in v) return formatMoney(lang, v as Money);
    if (Array.isArray(v)) return v.map(show).join(', ');
    if (typeof v === 'object') {
      return Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k} ${show(x)}`)
        .join(' ');
    }
    return String(v);
  };
  const entries = Object.entries(props.data).filter(([k]) => k !== 'status');
  if (entries.length === 0) return null;
  return (
    <span class="data">
      {entries.map(([k, v]) => (
        <span key={k}>
          <span class="k">{k}</span> {show(v)}
        </span>
      ))}
    </span>
  );
}
