// @ts-check
/** The signed-in key lives in this tab's sessionStorage only: closing the tab signs out. */

const STORAGE_KEY = 'easel.console.session';

/** @returns {import('../types').Session | undefined} */
export function loadSession() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    /** @type {unknown} */
    const value = JSON.parse(raw);
    if (
      value &&
      typeof value === 'object' &&
      'token' in value &&
      typeof value.token === 'string' &&
      'role' in value &&
      (value.role === 'customer' || value.role === 'operator')
    ) {
      return { token: value.token, role: value.role };
    }
  } catch {
    // unreadable: signed out
  }
  return undefined;
}

/** @param {import('../types').Session} session */
export function saveSession(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}
