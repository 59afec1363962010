// Building the page's parts from data with DOM calls only (no HTML strings): the context text of a
// push comes from the login and is shown as text, never as markup.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export const timeText = (ms) =>
  new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export const spacedCode = (code) => (code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code);

function facts(pairs) {
  const list = el('dl', { class: 'facts' });
  for (const [term, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    list.append(el('dt', { text: term }), el('dd', { text: String(value) }));
  }
  return list;
}

/**
 * One sign-in request as a card. `answer(decision, number?)` is called by its buttons. A code-to-phone
 * push shows the code to type and only a deny; a number-matching push offers its three numbers.
 */
export function pushCard(push, answer) {
  const id = `push-${push.id}`;
  const context = push.context ?? {};
  const where = context.system || context.client || 'a system';
  const card = el('li', { class: 'request', 'data-push-id': push.id, 'aria-labelledby': `${id}-h` });
  card.append(
    el('h3', { id: `${id}-h`, text: `Sign-in to ${where}?` }),
    facts([
      ['System', context.system],
      ['Through', context.client],
      ['From address', context.sourceIp],
      ['Asked at', timeText(push.createdAt)],
      ['Expires at', timeText(push.expiresAt)],
    ]),
  );
  const actions = el('div', { class: 'actions' });
  if (push.code) {
    card.append(
      el('p', { text: 'Type this code at the sign-in prompt:' }),
      el('p', { class: 'code', 'data-code': push.code, text: spacedCode(push.code) }),
    );
  } else if (push.numberMatching && Array.isArray(push.numbers)) {
    const legendId = `${id}-pick`;
    const group = el('fieldset', { class: 'numbers', 'aria-describedby': legendId });
    group.append(
      el('legend', { id: legendId, text: 'To approve, pick the number the sign-in screen shows' }),
    );
    for (const n of push.numbers) {
      const button = el('button', { type: 'button', class: 'number', text: String(n) });
      button.addEventListener('click', () => answer('approve', n));
      group.append(button);
    }
    card.append(group);
  } else {
    const approve = el('button', { type: 'button', class: 'approve', text: 'Approve' });
    approve.addEventListener('click', () => answer('approve'));
    actions.append(approve);
  }
  const deny = el('button', {
    type: 'button',
    class: 'deny',
    text: push.code ? 'This was not me' : 'Deny',
  });
  deny.addEventListener('click', () => answer('deny'));
  actions.append(deny);
  card.append(actions);
  return card;
}

/** Turns a card into a closed one: its buttons go, a line says what became of it. */
export function closeCard(card, text) {
  const hadFocus = card.contains(document.activeElement);
  for (const part of card.querySelectorAll('button, fieldset, .actions, .code')) part.remove();
  card.classList.add('closed');
  const outcome = el('p', { class: 'outcome', text, tabindex: '-1' });
  card.append(outcome);
  // a keyboard user whose button just went keeps their place, on what became of the request
  if (hadFocus) outcome.focus();
}
