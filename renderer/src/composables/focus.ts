// Focus helpers for dialogs and menus: what can take focus inside an element, a Tab trap, and
// putting focus back where it was when a dialog closes.

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
  'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function focusableIn(root: HTMLElement): HTMLElement[] {
  // :disabled also covers controls inside a disabled fieldset, which have no disabled attribute.
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.closest('[inert]') && !el.hidden && !el.matches(':disabled'));
}

/** Keeps Tab and Shift+Tab inside `root`. Call from its keydown handler. */
export function trapTab(event: KeyboardEvent, root: HTMLElement): void {
  if (event.key !== 'Tab') return;
  const items = focusableIn(root);
  if (items.length === 0) {
    event.preventDefault();
    root.focus();
    return;
  }
  const first = items[0]!;
  const last = items[items.length - 1]!;
  const active = document.activeElement;
  if (event.shiftKey && (active === first || !root.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !root.contains(active))) {
    event.preventDefault();
    first.focus();
  }
}

/** Focuses `[data-autofocus]` inside root, else its first focusable element, else root itself. */
export function focusInitial(root: HTMLElement): void {
  const preferred = root.querySelector<HTMLElement>('[data-autofocus]');
  const target = preferred && !preferred.matches(':disabled') ? preferred : focusableIn(root)[0];
  (target ?? root).focus();
}

/** Focuses `el` if it is still in the page and can take focus; returns whether it did. */
export function restoreFocus(el: Element | null | undefined): boolean {
  if (!(el instanceof HTMLElement) || !el.isConnected) return false;
  el.focus();
  return document.activeElement === el;
}
