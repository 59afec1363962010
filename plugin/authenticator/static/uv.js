// "Require user verification": before an approve, the phone's own unlock (fingerprint, face, PIN)
// through WebAuthn with userVerification "required". The credential is local to this app: it proves
// to the app that the owner is present; the approve itself is signed with the device key.
import { base64url } from './device.js';

const UV_FLAG = 0x04;

/** Why user verification cannot be done here, or null when the browser offers it. */
export async function uvUnavailableReason() {
  if (!window.isSecureContext) return 'this page is not a secure (https) page';
  if (!window.PublicKeyCredential || !navigator.credentials)
    return 'this browser does not offer a screen lock check (WebAuthn)';
  const available = await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable().catch(
    () => false,
  );
  return available ? null : 'this phone has no screen lock that the browser can check';
}

function fromBase64url(text) {
  const raw = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Creates the platform credential the unlock checks use; returns its id (base64url). */
export async function createUvCredential(deviceName) {
  const credential = await navigator.credentials.create({
    publicKey: {
      rp: { name: 'Tessera Authenticator' },
      user: { id: crypto.getRandomValues(new Uint8Array(16)), name: deviceName, displayName: deviceName },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [
        { type: 'public-key', alg: -7 },
        { type: 'public-key', alg: -257 },
      ],
      authenticatorSelection: {
        authenticatorAttachment: 'platform',
        userVerification: 'required',
        residentKey: 'discouraged',
      },
      timeout: 60_000,
    },
  });
  if (!credential) throw new Error('no credential was made');
  return base64url(credential.rawId);
}

/** Asks for the unlock; true only when the authenticator says the user was verified. */
export async function verifyUser(credentialId) {
  const assertion = await navigator.credentials.get({
    publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      allowCredentials: [{ type: 'public-key', id: fromBase64url(credentialId) }],
      userVerification: 'required',
      timeout: 60_000,
    },
  });
  if (!assertion) return false;
  const flags = new Uint8Array(assertion.response.authenticatorData)[32];
  return (flags & UV_FLAG) !== 0;
}
