/** Stable machine codes. Callers (FreeRADIUS policies, Keycloak, scripts) match on these. */
export type ReasonCode =
  | 'OTP_INVALID'
  | 'OTP_REUSED'
  | 'PIN_INVALID'
  | 'USER_UNKNOWN'
  | 'USER_LOCKED'
  | 'USER_DISABLED'
  | 'USER_THROTTLED'
  | 'NO_TOKEN'
  | 'METHOD_DISABLED'
  | 'RESYNC_REQUIRED'
  | 'CHALLENGE_EXPIRED'
  | 'CHALLENGE_UNKNOWN'
  | 'CHALLENGE_USER_MISMATCH'
  | 'MFA_NOT_REQUIRED'
  | 'NOT_ENROLLED_YET'
  | 'UNKNOWN_USER_PASSTHROUGH'
  /** The user name can never name a user (not valid Unicode, empty, too long, reserved characters). */
  | 'USER_INVALID'
  | 'CHALLENGE_SENT'
  /** A challenge answered without the first-factor proof the user and client require now. */
  | 'PIN_REQUIRED'
  /** This node cannot open the user's token seeds (another seed key): nothing counted. */
  | 'SEED_UNREADABLE'
  /** Too many PIN checks waiting on this node: refused unevaluated, nothing counted. */
  | 'SERVER_BUSY'
  /** `firstFactor: "ldap"`: the directory refused the password. */
  | 'PASSWORD_INVALID'
  /** `firstFactor: "ldap"`: the user's directory did not answer; nothing counted. */
  | 'DIRECTORY_UNAVAILABLE'
  /** A YubiKey OTP (the pass is not a code of another token) of no length a key of the user types. */
  | 'YUBIKEY_BAD_LENGTH'
  /** A YubiKey OTP with a character that is not ModHex. */
  | 'YUBIKEY_BAD_MODHEX'
  /** A YubiKey OTP whose public id names none of the user's keys. */
  | 'YUBIKEY_UNKNOWN'
  /** A YubiKey OTP that does not decrypt to a token with a valid CRC (changed, or another key's). */
  | 'YUBIKEY_CRC'
  /** Push approval (src/push): not answered yet, refused on the phone, timed out, too many open. */
  | 'PUSH_PENDING'
  | 'PUSH_DENIED'
  | 'PUSH_EXPIRED'
  | 'PUSH_LIMIT'
  /** The token a challenge was started for is no longer usable (disabled, removed, method off). */
  | 'METHOD_UNAVAILABLE'
  /** A mail or SMS code could not be sent (server down, slow or refusing); nothing counted. */
  | 'DELIVERY_FAILED'
  /** Too many codes sent lately to this user or this address; nothing sent, nothing counted. */
  | 'DELIVERY_RATE_LIMITED'
  /** A mail or SMS token whose user has no address or phone number (and the token names none). */
  | 'DESTINATION_MISSING'
  /** A menu answer (a number) that names no entry of the menu. */
  | 'METHOD_CHOICE_INVALID'
  /** The user has usable tokens, but none of a method this client allows. */
  | 'METHOD_NOT_ALLOWED'
  /** The client has challenges switched off: only a one-shot PIN+code (or code) works. */
  | 'CHALLENGE_DISABLED'
  | 'OK';

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'BAD_URL'
  | 'INVALID_CIDR'
  | 'WEAK_SECRET'
  | 'INVALID_USERNAME'
  | 'INVALID_UNICODE'
  | 'RESURRECT_REFUSED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'ROLE_FORBIDDEN'
  | 'REQUEST_TIMEOUT'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'READ_ONLY_REPLICA'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'RESYNC_FAILED'
  | 'STORE_UNAVAILABLE'
  /** The store was written by a newer (or much older) release than this node reads: it does not start. */
  | 'STORE_FORMAT_UNSUPPORTED'
  /** Directory source checks (src/directory): each failure of a bind or search has its own code. */
  | 'DIRECTORY_UNREACHABLE'
  | 'DIRECTORY_TLS'
  | 'DIRECTORY_BAD_CREDENTIALS'
  | 'DIRECTORY_BAD_BASE_DN'
  | 'DIRECTORY_BAD_FILTER'
  /** A sync would disable or delete more than the allowed fraction of a source's users. */
  | 'DIRECTORY_SYNC_LIMIT'
  /** A user import (CSV) that cannot be read as a whole: empty, no username column, an unclear header. */
  | 'IMPORT_INVALID'
  /** Device API (plugin/device): an unknown, used or expired pairing token; a bad device signature. */
  | 'PAIRING_INVALID'
  | 'DEVICE_UNAUTHORIZED'
  /** A push answered already, expired or unknown. */
  | 'PUSH_NOT_PENDING'
  | 'INTERNAL';

/** What any caller is told when the store fails; the reason travels as the error's `cause`, for the log. */
export const STORE_UNAVAILABLE_MESSAGE = 'the store is unavailable; try again later';

/** An error as a value: a stable code plus a human message that never carries a secret. */
export class TesseraError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = statusFor(code),
  ) {
    super(message);
    this.name = 'TesseraError';
  }
}

function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
    case 'BAD_URL':
    case 'INVALID_CIDR':
    case 'WEAK_SECRET':
    case 'INVALID_USERNAME':
    case 'INVALID_UNICODE':
    case 'RESYNC_FAILED':
    case 'DIRECTORY_BAD_FILTER':
    case 'IMPORT_INVALID':
      return 400;
    case 'DIRECTORY_SYNC_LIMIT':
      return 409;
    // The source as configured does not work (or its server is down): the admin's request was
    // fine but cannot be done; a 4xx, since this node did not fail. The code says which part.
    case 'DIRECTORY_UNREACHABLE':
    case 'DIRECTORY_TLS':
    case 'DIRECTORY_BAD_CREDENTIALS':
    case 'DIRECTORY_BAD_BASE_DN':
      return 422;
    case 'UNAUTHORIZED':
    case 'PAIRING_INVALID':
    case 'DEVICE_UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
    case 'ROLE_FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'PUSH_NOT_PENDING':
    case 'RESURRECT_REFUSED':
    case 'READ_ONLY_REPLICA':
      return 409;
    case 'REQUEST_TIMEOUT':
      return 408;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'URI_TOO_LONG':
      return 414;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'RATE_LIMITED':
      return 429;
    case 'HEADERS_TOO_LARGE':
      return 431;
    case 'STORE_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}
