// Operations (admin): stock per SKU with low-stock marks and days of cover, supplier health,
// quarantined batches to release or void, a key import from a file with a progress bar (sent in
// chunks through POST /v1/inventory/batches), risk policies with a simulation before saving,
// and the way to the Temporal UI.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, get, post } from '../api';
import { Dialog, ReasonForm } from '../components/dialog';
import { Notice, errorText } from '../components/messages';
import { formatTime, shortId } from '../format';
import { useLang, useT, useTerm } from '../i18n';
import { useSettings, workflowsUrl } from '../settings';

interface Product {
  sku: string;
  name: string;
  kind: 'card_key' | 'direct_topup';
  active?: boolean;
}

interface Stock {
  sku: string;
  counts: Partial<Record<string, number>>;
}

interface Supplier {
  id: string;
  name: string;
  enabled: boolean;
  circuit: { state: string; since: string };
  catalog: { status: string; syncedAt: string | null; reason?: string };
  health?: { calls: number; successRate: number | null; p95LatencyMs: number | null };
}

interface Batch {
  id: string;
  sku: string;
  supplier?: string;
  badKeys: number;
  keys: Partial<Record<string, number>>;
  quarantinedAt?: string;
  quarantineReason?: string;
}

/** Fewer available keys than this is low stock. */
export const LOW_STOCK = 10;
/** Keys per import request: well inside the API's 1 MB body limit at the longest key length. */
export const IMPORT_CHUNK = 1000;
const COVER_DAYS = 7;

export function OperationsPage() {
  const t = useT();
  const settings = useSettings();
  const [products, setProducts] = useState<Product[]>([]);
  const [stock, setStock] = useState<Stock[] | null>(null);
  const [delivered, setDelivered] = useState<Map<string, number>>(new Map());
  const [error, setError] = useState<string | null>(null);

  const loadStock = async () => {
    try {
      const [p, s] = await Promise.all([
        get<{ products: Product[] }>('/v1/products'),
        get<{ inventory: Stock[] }>('/v1/inventory'),
      ]);
      setProducts(p.products);
      setStock(s.inventory);
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  useEffect(() => {
    void loadStock();
    // Days of cover: the last week's deliveries per SKU (the redemption report counts them).
    const to = new Date();
    const from = new Date(to.getTime() - COVER_DAYS * 86_400_000);
    get<{ byProduct: { sku: string; delivered: number }[] }>(
      `/v1/reports/redemptions?from=${from.toISOString()}&to=${to.toISOString()}`,
    )
      .then((r) => setDelivered(new Map(r.byProduct.map((p) => [p.sku, p.delivered]))))
      .catch(() => undefined);
  }, []);

  const temporal = workflowsUrl(settings);
  return (
    <div class="stack">
      <div class="row between wrap">
        <h1>{t('ops.title')}</h1>
        {temporal && (
          <a href={temporal} target="_blank" rel="noreferrer">
            {t('ops.temporal')}
          </a>
        )}
      </div>
      {error && <Notice kind="error" text={error} />}
      <StockTable stock={stock} products={products} delivered={delivered} />
      <ImportForm products={products.filter((p) => p.kind === 'card_key')} onImported={loadStock} />
      <Batches onChanged={loadStock} />
      <Suppliers />
      <Policies products={products} />
    </div>
  );
}

function StockTable(props: { stock: Stock[] | null; products: Product[]; delivered: Map<string, number> }) {
  const t = useT();
  const statuses = ['available', 'reserved', 'delivered', 'redeemed', 'quarantined', 'void'];
  const cardKeys = new Set(props.products.filter((p) => p.kind === 'card_key').map((p) => p.sku));
  return (
    <section class="panel" aria-labelledby="stock-title">
      <h2 id="stock-title">{t('ops.stock')}</h2>
      {!props.stock ? (
        <p>{t('common.loading')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                {statuses.map((s) => (
                  <th key={s} scope="col" class="num">
                    {t(`keyStatus.${s as 'available'}`)}
                  </th>
                ))}
                <th scope="col" class="num">
                  {t('ops.cover')}
                </th>
              </tr>
            </thead>
            <tbody>
              {props.stock
                .filter((s) => cardKeys.has(s.sku))
                .map((s) => {
                  const available = s.counts.available ?? 0;
                  const perDay = (props.delivered.get(s.sku) ?? 0) / COVER_DAYS;
                  const low = available < LOW_STOCK;
                  return (
                    <tr key={s.sku} class={low ? 'low' : ''} data-sku={s.sku}>
                      <th scope="row">
                        {s.sku} {low && <span class="badge warn">{t('ops.low')}</span>}
                      </th>
                      {statuses.map((st) => (
                        <td key={st} class="num" data-status={st}>
                          {s.counts[st] ?? 0}
                        </td>
                      ))}
                      <td class="num">{perDay > 0 ? (available / perDay).toFixed(1) : '—'}</td>
                    </tr>
                  );
                })}
            </tbody>
          </table>
        </div>
      )}
      <p class="hint">{t('ops.stockHint', { low: LOW_STOCK, days: COVER_DAYS })}</p>
    </section>
  );
}

/** Keys from a text or CSV file: the first column of each line, a `key`/`code` header skipped (as the CLI reads them). */
export function keysOf(text: string): string[] {
  const keys: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const first = (line.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1');
    if (!first) continue;
    if (keys.length === 0 && /^(key|code)$/i.test(first)) continue;
    keys.push(first);
  }
  return keys;
}

function ImportForm(props: { products: Product[]; onImported: () => Promise<void> }) {
  const t = useT();
  const [progress, setProgress] = useState<{ done: number; total: number; duplicates: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const file = data.get('file');
    const sku = String(data.get('sku') ?? '');
    const supplier = String(data.get('supplier') ?? '').trim();
    const cost = String(data.get('cost') ?? '').trim();
    if (!(file instanceof File) || !sku) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const keys = keysOf(await file.text());
      if (keys.length === 0) throw new Error(t('ops.importEmpty'));
      let duplicates = 0;
      let imported = 0;
      setProgress({ done: 0, total: keys.length, duplicates });
      for (let i = 0; i < keys.length; i += IMPORT_CHUNK) {
        const chunk = keys.slice(i, i + IMPORT_CHUNK);
        const res = await post<{ imported: number; duplicates: number }>('/v1/inventory/batches', {
          sku,
          keys: chunk,
          ...(supplier ? { supplier } : {}),
          ...(cost ? { costMinor: Number(cost) } : {}),
        });
        duplicates += res.duplicates;
        imported += res.imported;
        setProgress({ done: Math.min(i + chunk.length, keys.length), total: keys.length, duplicates });
      }
      setResult(t('ops.imported', { n: imported, duplicates }));
      form.reset();
      await props.onImported();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">{t('ops.import')}</h2>
      <form
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(e.currentTarget);
        }}
      >
        <div class="field">
          <label for="import-sku">SKU</label>
          <select id="import-sku" name="sku" required>
            {props.products.map((p) => (
              <option key={p.sku} value={p.sku}>
                {p.sku} — {p.name}
              </option>
            ))}
          </select>
        </div>
        <label class="field">
          <span>{t('ops.supplierOptional')}</span>
          <input name="supplier" autoComplete="off" />
        </label>
        <label class="field">
          <span>{t('ops.costOptional')}</span>
          <input name="cost" inputMode="numeric" pattern="[0-9]*" autoComplete="off" />
        </label>
        <label class="field grow">
          <span>{t('ops.file')}</span>
          <input name="file" type="file" accept=".csv,.txt,text/csv,text/plain" required />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('ops.importButton')}
        </button>
      </form>
      {progress && (
        <div class="progress">
          <label>
            <span>{t('ops.progress', { done: progress.done, total: progress.total })}</span>
            <progress max={progress.total} value={progress.done} />
          </label>
        </div>
      )}
      <Notice text={result} />
      {error && <Notice kind="error" text={error} />}
      <p class="hint">{t('ops.importHint', { chunk: IMPORT_CHUNK })}</p>
    </section>
  );
}

function Batches(props: { onChanged: () => Promise<void> }) {
  const t = useT();
  const { lang } = useLang();
  const [batches, setBatches] = useState<Batch[] | null>(null);
  const [acting, setActing] = useState<{ batch: Batch; kind: 'release' | 'void' } | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const load = () =>
    get<{ batches: Batch[] }>('/v1/inventory/batches?quarantined=true&limit=100')
      .then((r) => setBatches(r.batches))
      .catch((err: unknown) => setError(errorText(t, err)));
  useEffect(() => void load(), []);
  const decide = async (reason: string) => {
    if (!acting) return;
    setBusy(true);
    try {
      await post(`/v1/inventory/batches/${acting.batch.id}/${acting.kind}`, reason ? { reason } : {});
      setActing(null);
      await load();
      await props.onChanged();
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="batches-title">
      <h2 id="batches-title">{t('ops.batches')}</h2>
      {!batches ? (
        <p>{t('common.loading')}</p>
      ) : batches.length === 0 ? (
        <p>{t('ops.noQuarantine')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('ops.batch')}</th>
                <th scope="col">SKU</th>
                <th scope="col">{t('ops.supplier')}</th>
                <th scope="col" class="num">
                  {t('ops.badKeys')}
                </th>
                <th scope="col">{t('ops.quarantined')}</th>
                <th scope="col">{t('common.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {batches.map((b) => (
                <tr key={b.id}>
                  <td class="mono">{shortId(b.id)}</td>
                  <td>{b.sku}</td>
                  <td>{b.supplier ?? '—'}</td>
                  <td class="num">{b.badKeys}</td>
                  <td>
                    {formatTime(lang, b.quarantinedAt)}{' '}
                    {b.quarantineReason && <div class="hint">{b.quarantineReason}</div>}
                  </td>
                  <td>
                    <div class="row wrap">
                      <button type="button" onClick={() => setActing({ batch: b, kind: 'release' })}>
                        {t('ops.release')}
                      </button>
                      <button type="button" class="danger" onClick={() => setActing({ batch: b, kind: 'void' })}>
                        {t('ops.void')}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog
        open={acting !== null}
        title={acting?.kind === 'void' ? t('ops.voidTitle') : t('ops.releaseTitle')}
        onClose={() => setActing(null)}
      >
        {acting && (
          <ReasonForm
            label={t('support.reason')}
            confirm={acting.kind === 'void' ? t('ops.void') : t('ops.release')}
            danger={acting.kind === 'void'}
            required={acting.kind === 'void'}
            busy={busy}
            error={error}
            onSubmit={(reason) => void decide(reason)}
          >
            <p>{t(acting.kind === 'void' ? 'ops.voidText' : 'ops.releaseText', { id: shortId(acting.batch.id) })}</p>
          </ReasonForm>
        )}
      </Dialog>
    </section>
  );
}

function Suppliers() {
  const t = useT();
  const term = useTerm();
  const { lang } = useLang();
  const [suppliers, setSuppliers] = useState<Supplier[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ suppliers: Supplier[] }>('/v1/suppliers')
      .then((r) => setSuppliers(r.suppliers))
      .catch((err: unknown) => setError(errorText(t, err)));
  }, []);
  const pct = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${Math.round(n * 1000) / 10}%`);
  return (
    <section class="panel" aria-labelledby="suppliers-title">
      <h2 id="suppliers-title">{t('ops.suppliers')}</h2>
      {error && <Notice kind="error" text={error} />}
      {!suppliers ? null : suppliers.length === 0 ? (
        <p>{t('ops.noSuppliers')}</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('ops.supplier')}</th>
                <th scope="col">{t('ops.circuit')}</th>
                <th scope="col" class="num">
                  {t('ops.successRate')}
                </th>
                <th scope="col" class="num">
                  {t('ops.p95')}
                </th>
                <th scope="col">{t('ops.catalog')}</th>
              </tr>
            </thead>
            <tbody>
              {suppliers.map((s) => (
                <tr key={s.id}>
                  <th scope="row">
                    {s.name} {!s.enabled && <span class="badge">{t('ops.disabled')}</span>}
                  </th>
                  <td>
                    <span class={`badge ${s.circuit.state === 'closed' ? 'ok' : 'warn'}`}>
                      {term('circuit', s.circuit.state)}
                    </span>
                  </td>
                  <td class="num">
                    {pct(s.health?.successRate)}
                    {s.health && <span class="hint"> ({t('ops.calls', { n: s.health.calls })})</span>}
                  </td>
                  <td class="num">{s.health?.p95LatencyMs != null ? `${s.health.p95LatencyMs} ms` : '—'}</td>
                  <td>
                    {term('catalog', s.catalog.status)}
                    {s.catalog.syncedAt && <span class="hint"> {formatTime(lang, s.catalog.syncedAt)}</span>}
                    {s.catalog.reason && <div class="hint">{s.catalog.reason}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface Simulation {
  summary: {
    total: number;
    unchanged: number;
    wouldAllow: number;
    wouldReview: number;
    wouldBlock: number;
    agreesWithAnalysts: number;
  };
}

function Policies(props: { products: Product[] }) {
  const t = useT();
  const [sku, setSku] = useState('default');
  const [policy, setPolicy] = useState<unknown>(null);
  const [patch, setPatch] = useState('{\n  "thresholds": { "review": 40 }\n}');
  const [simulated, setSimulated] = useState<{ text: string; result: Simulation } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    setSimulated(null);
    get(`/v1/risk/policies/${encodeURIComponent(sku)}`)
      .then(setPolicy)
      .catch((err: unknown) => setError(errorText(t, err)));
  }, [sku]);
  const parsed = (): unknown => {
    try {
      return JSON.parse(patch);
    } catch {
      setError(t('ops.policyJson'));
      return undefined;
    }
  };
  const simulate = async () => {
    setError(null);
    setNotice(null);
    const body = parsed();
    if (body === undefined) return;
    try {
      const result = await post<Simulation>(`/v1/risk/policies/${encodeURIComponent(sku)}/simulate`, { policy: body });
      setSimulated({ text: patch, result });
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const save = async () => {
    const body = parsed();
    if (body === undefined) return;
    try {
      setPolicy(await api('PATCH', `/v1/risk/policies/${encodeURIComponent(sku)}`, body));
      setNotice(t('ops.policySaved'));
      setSimulated(null);
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const s = simulated?.text === patch ? simulated.result.summary : null;
  return (
    <section class="panel" aria-labelledby="policies-title">
      <h2 id="policies-title">{t('ops.policies')}</h2>
      <div class="grid2">
        <div class="stack">
          <div class="field">
            <label for="policy-sku">{t('ops.policyFor')}</label>
            <select id="policy-sku" value={sku} onChange={(e) => setSku(e.currentTarget.value)}>
              <option value="default">{t('ops.defaultPolicy')}</option>
              {props.products.map((p) => (
                <option key={p.sku} value={p.sku}>
                  {p.sku}
                </option>
              ))}
            </select>
          </div>
          <label class="field">
            <span>{t('ops.policyChange')}</span>
            <textarea
              ref={area}
              class="mono"
              rows={6}
              value={patch}
              spellcheck={false}
              onInput={(e) => setPatch(e.currentTarget.value)}
            />
          </label>
          <div class="row">
            <button type="button" onClick={() => void simulate()}>
              {t('ops.simulate')}
            </button>
            <button type="button" class="primary" disabled={!s} onClick={() => void save()}>
              {t('ops.save')}
            </button>
          </div>
          {!s && <p class="hint">{t('ops.simulateFirst')}</p>}
          {s && (
            <p role="status">
              {t('ops.simulation', {
                total: s.total,
                unchanged: s.unchanged,
                allow: s.wouldAllow,
                review: s.wouldReview,
                block: s.wouldBlock,
                agree: s.agreesWithAnalysts,
              })}
            </p>
          )}
          <Notice text={notice} />
          {error && <Notice kind="error" text={error} />}
        </div>
        <details>
          <summary>{t('ops.effective')}</summary>
          <pre class="mono">{policy ? JSON.stringify(policy, null, 2) : ''}</pre>
        </details>
      </div>
    </section>
  );
}
