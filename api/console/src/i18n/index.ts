// Chinese and English, switchable at any time: one dictionary per language with the same keys
// (the Chinese one must cover every English key: a missing one is a type error), `{name}`
// placeholders, and the choice kept in local storage (it is a preference, not a secret).
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { en, zh } from './messages';

export type Lang = 'en' | 'zh';
export type MessageKey = keyof typeof en;
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { en, zh };
const STORED = 'rp.console.lang';

export function initialLang(): Lang {
  const stored = localStorage.getItem(STORED);
  if (stored === 'en' || stored === 'zh') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function rememberLang(lang: Lang): void {
  localStorage.setItem(STORED, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = DICTIONARIES[lang][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

/** A key built from data (a status, an event name), when the dictionary has one. */
export function hasMessage(key: string): key is MessageKey {
  return key in en;
}

export const LangContext = createContext<{ lang: Lang; setLang: (lang: Lang) => void }>({
  lang: 'en',
  setLang: () => undefined,
});

export function useLang() {
  return useContext(LangContext);
}

export function useT(): Translate {
  const { lang } = useContext(LangContext);
  return (key, vars) => translate(lang, key, vars);
}

/** `prefix.word` translated when the dictionary knows it, else the word itself (e.g. a new status). */
export function useTerm(): (prefix: string, word: string) => string {
  const t = useT();
  return (prefix, word) => {
    const key = `${prefix}.${word}`;
    return hasMessage(key) ? t(key) : word;
  };
}
