// A modal built on the native <dialog>: the browser traps focus, Esc closes, the page behind is
// inert. Used for every action that needs a reason or a confirmation.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useT } from '../i18n';

export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const t = useT();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      dialog.showModal();
      // showModal focuses the first focusable element (the close button); the form's field
      // is where the operator types, so a keyboard decision is: key, note, Enter.
      dialog.querySelector<HTMLElement>('[autofocus], textarea, input, select')?.focus();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="dialog-title" onClose={props.onClose} onCancel={props.onClose}>
      {props.open && (
        <div class="dialog-body">
          <div class="dialog-head">
            <h2 id="dialog-title">{props.title}</h2>
            <button type="button" class="ghost" onClick={props.onClose} aria-label={t('common.close')}>
              ×
            </button>
          </div>
          {props.children}
        </div>
      )}
    </dialog>
  );
}

/**
 * A reason (or note) and a confirm button: what every audited action asks for. Enter submits
 * (Shift+Enter for a new line), so a decision made from the keyboard is one more keystroke.
 */
export function ReasonForm(props: {
  label: string;
  confirm: string;
  busy?: boolean;
  danger?: boolean;
  required?: boolean;
  error?: string | undefined;
  children?: ComponentChildren;
  onSubmit: (reason: string) => void;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const submit = () => {
    const reason = area.current?.value.trim() ?? '';
    if (props.required !== false && reason === '') {
      area.current?.focus();
      return;
    }
    props.onSubmit(reason);
  };
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {props.children}
      <label class="field">
        <span>{props.label}</span>
        <textarea
          ref={area}
          autoFocus
          name="reason"
          rows={3}
          maxLength={500}
          required={props.required !== false}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
        />
      </label>
      {props.error && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      <div class="row end">
        <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={props.busy}>
          {props.confirm}
        </button>
      </div>
    </form>
  );
}
