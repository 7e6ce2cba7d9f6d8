// Where the Temporal UI is (the API says, /console/settings.json): links from every order and
// review to its workflow.
import { useEffect, useState } from 'preact/hooks';

interface Settings {
  temporalUi: string;
  namespace: string;
}

let loaded: Promise<Settings | null> | undefined;

export function useSettings(): Settings | null {
  const [settings, setSettings] = useState<Settings | null>(null);
  useEffect(() => {
    loaded ??= fetch('/console/settings.json')
      .then((r) => (r.ok ? (r.json() as Promise<Settings>) : null))
      .catch(() => null);
    void loaded.then(setSettings);
  }, []);
  return settings;
}

export function workflowUrl(settings: Settings | null, workflowId: string): string | null {
  if (!settings) return null;
  return `${settings.temporalUi}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function workflowsUrl(settings: Settings | null): string | null {
  return settings ? `${settings.temporalUi}/namespaces/${encodeURIComponent(settings.namespace)}/workflows` : null;
}
