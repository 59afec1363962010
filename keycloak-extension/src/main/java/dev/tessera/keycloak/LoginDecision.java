package dev.tessera.keycloak;

/** Turns Tessera's answer (or its absence) into what the login step does next. Pure logic. */
public final class LoginDecision {
  /** The step's possible outcomes. */
  public enum Action {
    /** The second factor is done: continue the flow. */
    SUCCESS,
    /** Show the form again with an error; counts as a failed attempt for brute-force protection. */
    RETRY_FAILED,
    /** Show the form again asking for the answer to a challenge; nothing failed. */
    CHALLENGE,
    /** Show the form with an error but do not count it against the user (the fault is not theirs). */
    ERROR
  }

  private final Action action;
  private final String messageKey;
  private final boolean failedOpen;

  private LoginDecision(Action action, String messageKey, boolean failedOpen) {
    this.action = action;
    this.messageKey = messageKey;
    this.failedOpen = failedOpen;
  }

  public Action action() {
    return action;
  }

  /** The key in theme-resources/messages for the text to show, or null. */
  public String messageKey() {
    return messageKey;
  }

  /** True when the user got in only because Tessera was unreachable and the fail mode is open. */
  public boolean failedOpen() {
    return failedOpen;
  }

  public static LoginDecision decide(ValidateResult r, FailMode failMode) {
    switch (r.kind()) {
      case ACCEPT:
        return new LoginDecision(Action.SUCCESS, null, false);
      case CHALLENGE:
        return new LoginDecision(Action.CHALLENGE, Messages.CHALLENGE, false);
      case REJECT:
        return new LoginDecision(Action.RETRY_FAILED, Messages.forReason(r.reason()), false);
      case UNAVAILABLE:
        if (failMode == FailMode.OPEN) return new LoginDecision(Action.SUCCESS, null, true);
        return new LoginDecision(Action.ERROR, Messages.UNAVAILABLE, false);
      case BAD_KEY:
      case ERROR:
      default:
        // Misconfiguration is never failed open: a wrong key would otherwise switch the second factor off.
        return new LoginDecision(Action.ERROR, Messages.CONFIG_ERROR, false);
    }
  }
}
