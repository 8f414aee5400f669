/* The drawing page's keyboard shortcuts: Enter recognizes, Escape clears, Ctrl+Z (Cmd+Z) undoes, 0-9 label. */

/* What a keydown asks for: 'undo', 'recognize', 'clear', a digit 0-9, or null (typing in a field, a focused
   button's own Enter, a key with other modifiers). */
export function keyAction(e) {
  if (e.defaultPrevented || e.isComposing) { return null; }
  const t = e.target || {};
  const tag = t.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable ||
      (tag === 'INPUT' && t.type !== 'radio' && t.type !== 'checkbox')) { return null; }
  const key = e.key;
  if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (key === 'z' || key === 'Z')) { return 'undo'; }
  if (e.ctrlKey || e.metaKey || e.altKey) { return null; }
  if (key === 'Enter') {
    return tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY' ? null : 'recognize';   // Enter presses the control
  }
  if (key === 'Escape' || key === 'Esc') { return 'clear'; }
  if (/^[0-9]$/.test(key)) { return Number(key); }
  return null;
}

// handler(action) for each shortcut; the key's default is prevented.
export function bindKeys(target, handler) {
  target.addEventListener('keydown', (e) => {
    const action = keyAction(e);
    if (action === null) { return; }
    e.preventDefault();
    handler(action);
  });
}
