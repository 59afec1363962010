// The authenticator app: pairing, the sign-in requests it is asked to answer, and TOTP codes.
import { deviceFetch, forgetDevice, loadDevice, newKeyPair, pairingTokenOf, saveDevice } from './device.js';
import { connectEvents } from './events.js';
import { currentCode, importTotpKey } from './totp.js';
import { createUvCredential, uvUnavailableReason, verifyUser } from './uv.js';
import { closeCard, pushCard, spacedCode } from './view.js';
import { subscribeWakeUps } from './webpush.js';

const $ = (id) => document.getElementById(id);

const LINK_TEXT = {
  connecting: 'Connecting…',
  connected: 'Connected: sign-in requests arrive here.',
  offline: 'Offline: codes still work; requests arrive when the network is back.',
  refused: 'The server no longer knows this phone. Pair it again from the portal.',
};

const state = { device: null, link: null, pushes: new Map(), codeTimer: 0, expiryTimer: 0, finishedTimer: 0 };

function say(text, kind = 'notice') {
  $('error').textContent = kind === 'error' ? text : '';
  $('notice').textContent = kind === 'error' ? '' : text;
}

function platformName() {
  const ua = navigator.userAgent;
  if (/Android/i.test(ua)) return 'Android phone';
  if (/iPhone|iPad/i.test(ua)) return 'iPhone';
  return 'This browser';
}

// ——— pairing ———

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function showPairing(text) {
  $('title').textContent = 'Pair this phone';
  $('pair').hidden = false;
  $('home').hidden = true;
  $('pair-replaces').hidden = !state.device;
  if (text) $('pair-text').value = text;
  if (!$('device-name').value) $('device-name').value = platformName();
}

async function pair(event) {
  event.preventDefault();
  const found = pairingTokenOf($('pair-text').value);
  const name = $('device-name').value.trim();
  if (!found) return say('That is not a pairing link. Copy the whole link from the portal.', 'error');
  if (!name) return say('Give this phone a name, so you recognise it in the portal.', 'error');
  const origin = found.url ? originOf(found.url) : location.origin;
  if (origin !== location.origin)
    return say(`This pairing is for ${origin ?? 'another server'}; open the link there.`, 'error');
  $('pair-button').disabled = true;
  say('Pairing…');
  try {
    const keys = await newKeyPair();
    const reply = await fetch('/v1/device/pair', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pairingToken: found.token,
        publicKey: keys.publicJwk,
        name,
        platform: navigator.userAgentData?.platform ?? platformName(),
      }),
    });
    if (!reply.ok) {
      const problem = await reply.json().catch(() => ({}));
      return say(
        reply.status >= 401 && reply.status < 500
          ? 'This pairing link has expired or was used already. Start again in the portal.'
          : `Pairing failed (${problem.code ?? reply.status}).`,
        'error',
      );
    }
    const paired = await reply.json();
    const device = {
      deviceId: paired.deviceId,
      privateKey: keys.privateKey,
      name,
      config: paired.config,
      totpKey: await importTotpKey(paired.totp.secret, paired.totp.algorithm),
      totp: { digits: paired.totp.digits, period: paired.totp.period },
      pairedAt: Date.now(),
    };
    let uvNote = '';
    if (paired.config.userVerification) {
      const why = await uvUnavailableReason();
      if (why) uvNote = ` Approvals need the phone's unlock, and ${why}: you can use codes only.`;
      else device.uvCredential = await createUvCredential(name).catch(() => undefined);
    }
    state.link?.stop();
    state.pushes.clear();
    $('requests').replaceChildren();
    await saveDevice(device);
    history.replaceState(null, '', location.pathname);
    $('pair-text').value = '';
    start(device);
    say(`Paired. This phone now gets sign-in requests.${uvNote}`);
  } catch (err) {
    say(`Pairing failed: ${err.message}`, 'error');
  } finally {
    $('pair-button').disabled = false;
  }
}

// ——— sign-in requests ———

function renderPushes() {
  const list = $('requests');
  const open = [...state.pushes.values()].filter((p) => !p.closed);
  $('no-requests').hidden = state.pushes.size > 0;
  for (const push of state.pushes.values()) {
    if (!push.card) {
      push.card = pushCard(push, (decision, number) => answer(push, decision, number));
      list.prepend(push.card);
    }
  }
  document.title = open.length > 0 ? `(${open.length}) Tessera Authenticator` : 'Tessera Authenticator';
}

function addPush(push) {
  if (state.pushes.has(push.id) || push.expiresAt <= Date.now()) return;
  state.pushes.set(push.id, push);
  renderPushes();
  const context = push.context ?? {};
  say(`New sign-in request for ${context.system || context.client || 'a system'}.`);
}

function closePush(push, text) {
  push.closed = true;
  closeCard(push.card, text);
  renderPushes();
}

/** The phone's unlock, when the configuration asks for it; the reason it cannot be had otherwise. */
async function unlock(push) {
  const device = state.device;
  if (!push.userVerification && !device.config.userVerification) return { ok: true, verified: false };
  const why = await uvUnavailableReason();
  if (why)
    return { ok: false, why: `This account asks for the phone's unlock before approving, and ${why}.` };
  try {
    if (!device.uvCredential) {
      // made with userVerification "required": making it is itself the unlock
      device.uvCredential = await createUvCredential(device.name);
      await saveDevice(device);
      return { ok: true, verified: true };
    }
    if (await verifyUser(device.uvCredential)) return { ok: true, verified: true };
  } catch {
    // the user cancelled, or the authenticator refused
  }
  return { ok: false, why: 'The phone was not unlocked, so the sign-in was not approved.' };
}

async function answer(push, decision, number) {
  if (push.busy || push.closed) return;
  push.busy = true;
  try {
    const body = { decision };
    if (decision === 'approve') {
      const check = await unlock(push);
      if (!check.ok) return say(check.why, 'error');
      if (check.verified) body.userVerified = true;
      if (number !== undefined) body.number = number;
    }
    const reply = await deviceFetch(state.device, 'POST', `/v1/device/pushes/${push.id}/answer`, body);
    if (reply.status === 409) {
      closePush(push, 'This request expired or was answered already.');
      return say('That request was no longer open.', 'error');
    }
    if (!reply.ok) return say(`The answer was not taken (${reply.status}). Try again.`, 'error');
    const result = await reply.json().catch(() => ({}));
    const approved = decision === 'approve' && result.state !== 'denied';
    closePush(push, approved ? 'Approved.' : 'Denied.');
    say(
      approved
        ? 'Approved: the sign-in goes on.'
        : result.state === 'denied' && decision === 'approve'
          ? 'That was not the number on the sign-in screen: the sign-in was refused.'
          : 'Denied: the sign-in was refused and your administrators are told.',
    );
  } catch {
    say('No network: the answer was not sent. Try again when online.', 'error');
  } finally {
    push.busy = false;
  }
}

function expireOld() {
  for (const push of state.pushes.values())
    if (!push.closed && push.expiresAt <= Date.now())
      closePush(push, 'Expired: this request is no longer open.');
}

/**
 * A request can end without this phone: its code was typed at the login, or the login gave up.
 * While one is open, the pending list is asked again now and then, and what left it is closed.
 */
async function closeFinished() {
  const open = [...state.pushes.values()].filter((p) => !p.closed && !p.busy);
  if (open.length === 0 || $('link-state').dataset.state !== 'connected') return;
  try {
    const reply = await deviceFetch(state.device, 'GET', '/v1/device/pushes');
    if (!reply.ok) return;
    const pending = new Set(((await reply.json()).items ?? []).map((p) => p.id));
    for (const push of open)
      if (!pending.has(push.id) && !push.closed && !push.busy)
        closePush(push, push.code ? 'Done: the code was used.' : 'Closed: this request is no longer open.');
  } catch {
    // offline for a moment: the next look tries again
  }
}

// ——— codes and the device facts ———

async function showCode() {
  const d = state.device;
  if (!d) return;
  const { code, secondsLeft } = await currentCode(d.totpKey, d.totp.digits, d.totp.period);
  $('totp-code').textContent = spacedCode(code);
  $('totp-code').dataset.code = code;
  $('totp-left').textContent = `Changes in ${secondsLeft} s. Works without a network too.`;
}

function showFacts() {
  const d = state.device;
  $('fact-name').textContent = d.name;
  $('fact-device').textContent = d.deviceId;
  $('fact-matching').textContent = d.config.numberMatching ? 'on' : 'off';
  $('fact-uv').textContent = d.config.userVerification ? 'required' : 'not required';
}

function start(device) {
  state.device = device;
  $('title').textContent = 'Authenticator';
  $('pair').hidden = true;
  $('home').hidden = false;
  showFacts();
  clearInterval(state.codeTimer);
  clearInterval(state.expiryTimer);
  clearInterval(state.finishedTimer);
  showCode();
  state.codeTimer = setInterval(showCode, 1000);
  state.expiryTimer = setInterval(expireOld, 1000);
  state.finishedTimer = setInterval(closeFinished, 3000);
  state.link = connectEvents(device, {
    onState: (s) => {
      $('link-state').textContent = LINK_TEXT[s];
      $('link-state').dataset.state = s;
    },
    onPush: addPush,
    onPending: (list) => {
      for (const push of list) addPush(push);
    },
    onConfig: async (config) => {
      device.config = config;
      await saveDevice(device);
      showFacts();
    },
  });
  void subscribeWakeUps(device);
}

async function forget() {
  state.link?.stop();
  state.link = null;
  clearInterval(state.codeTimer);
  clearInterval(state.expiryTimer);
  clearInterval(state.finishedTimer);
  await forgetDevice();
  state.device = null;
  state.pushes.clear();
  $('requests').replaceChildren();
  $('link-state').textContent = '';
  showPairing('');
  say('The pairing was removed from this phone. Remove the device in the portal too.');
}

async function main() {
  $('pair-form').addEventListener('submit', pair);
  $('forget').addEventListener('click', forget);
  // back online or back in view: reconnect now rather than after the pause, unless still connected
  const wake = () => {
    if ($('link-state').dataset.state !== 'connected') state.link?.nudge();
  };
  window.addEventListener('online', wake);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') wake();
  });
  if ('serviceWorker' in navigator)
    navigator.serviceWorker.register('/authenticator/sw.js', { scope: '/authenticator/' }).catch(() => {});
  const device = await loadDevice().catch(() => undefined);
  state.device = device ?? null;
  if (location.hash.startsWith('#pair=')) return showPairing(location.href);
  if (device) return start(device);
  showPairing('');
}

main();
