package dev.tessera.keycloak;

/** What one call to Tessera's validate API came to, as far as the login is concerned. */
public final class ValidateResult {
  /** The kinds of answer, including the ways the call can fail. */
  public enum Kind {
    ACCEPT,
    REJECT,
    CHALLENGE,
    /** 401/403: Tessera is up but refuses this client key. A configuration error, never failed open. */
    BAD_KEY,
    /** Network error, timeout or 5xx: the fail mode applies. */
    UNAVAILABLE,
    /** Any other answer (4xx, unreadable body). Treated as an error, never failed open. */
    ERROR
  }

  private final Kind kind;
  private final String reason;
  private final String message;
  private final String transactionId;
  private final int httpStatus;
  private final String detail;
  private final java.util.List<MethodOption> methods;
  private final String method;

  private ValidateResult(Kind kind, String reason, String message, String transactionId, int httpStatus, String detail) {
    this(kind, reason, message, transactionId, httpStatus, detail, java.util.List.of());
  }

  private ValidateResult(Kind kind, String reason, String message, String transactionId, int httpStatus, String detail,
      java.util.List<MethodOption> methods) {
    this(kind, reason, message, transactionId, httpStatus, detail, methods, null);
  }

  private ValidateResult(Kind kind, String reason, String message, String transactionId, int httpStatus, String detail,
      java.util.List<MethodOption> methods, String method) {
    this.method = method;
    this.methods = methods;
    this.kind = kind;
    this.reason = reason;
    this.message = message;
    this.transactionId = transactionId;
    this.httpStatus = httpStatus;
    this.detail = detail;
  }

  public static ValidateResult answer(Kind kind, String reason, String message, String transactionId) {
    return new ValidateResult(kind, reason, message, transactionId, 200, null);
  }

  /** A challenge that offers a menu of methods. */
  public static ValidateResult challenge(String reason, String message, String transactionId, java.util.List<MethodOption> methods) {
    return new ValidateResult(Kind.CHALLENGE, reason, message, transactionId, 200, null, methods);
  }

  /** A challenge bound to one token, whose method Tessera names (e.g. "push": answered by polling). */
  public static ValidateResult boundChallenge(String reason, String message, String transactionId, String method) {
    return new ValidateResult(Kind.CHALLENGE, reason, message, transactionId, 200, null, java.util.List.of(), method);
  }

  public static ValidateResult failure(Kind kind, int httpStatus, String detail) {
    return new ValidateResult(kind, null, null, null, httpStatus, detail);
  }

  public Kind kind() {
    return kind;
  }

  /** Tessera's stable reason code (OTP_INVALID, OTP_REUSED, USER_LOCKED, ...), or null. */
  public String reason() {
    return reason;
  }

  /** Tessera's human-readable message, e.g. the prompt of a challenge, or null. */
  public String message() {
    return message;
  }

  /** The method menu of a challenge; empty when it offers none. */
  public java.util.List<MethodOption> methods() {
    return methods;
  }

  /** The method of a challenge bound to one token (totp, email, push, ...), or null when Tessera names none. */
  public String method() {
    return method;
  }

  public String transactionId() {
    return transactionId;
  }

  /** The HTTP status, 0 when no answer arrived. */
  public int httpStatus() {
    return httpStatus;
  }

  /** Why a call failed, for the server log only (never contains the key or the code). */
  public String detail() {
    return detail;
  }

  @Override
  public String toString() {
    return "ValidateResult{" + kind + (reason != null ? ", reason=" + reason : "") + ", http=" + httpStatus
        + (detail != null ? ", detail=" + detail : "") + "}";
  }
}
