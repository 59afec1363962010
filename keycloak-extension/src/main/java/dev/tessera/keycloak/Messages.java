package dev.tessera.keycloak;

/** Message keys of theme-resources/messages/messages_*.properties. */
public final class Messages {
  private Messages() {}

  public static final String TITLE = "tesseraOtpTitle";
  public static final String LABEL = "tesseraOtpLabel";
  public static final String MISSING = "tesseraOtpMissing";
  public static final String INVALID = "tesseraOtpInvalid";
  public static final String REUSED = "tesseraOtpReused";
  public static final String LOCKED = "tesseraUserLocked";
  public static final String DISABLED = "tesseraUserDisabled";
  public static final String NO_TOKEN = "tesseraNoToken";
  public static final String CHALLENGE = "tesseraChallenge";
  public static final String CHALLENGE_EXPIRED = "tesseraChallengeExpired";
  public static final String RESYNC = "tesseraResyncRequired";
  public static final String THROTTLED = "tesseraThrottled";
  public static final String UNAVAILABLE = "tesseraUnavailable";
  public static final String CONFIG_ERROR = "tesseraConfigError";
  public static final String TEMPORARILY_LOCKED = "tesseraTemporarilyLocked";
  public static final String CHOICE_INVALID = "tesseraChoiceInvalid";
  public static final String METHOD_UNAVAILABLE = "tesseraMethodUnavailable";
  public static final String CHALLENGE_DISABLED = "tesseraChallengeDisabled";
  public static final String PUSH_DENIED = "tesseraPushDenied";
  public static final String PUSH_EXPIRED = "tesseraPushExpired";
  public static final String PUSH_LIMIT = "tesseraPushLimit";

  /** The text for a reject, by Tessera's reason code. Unknown users read like wrong codes on purpose. */
  public static String forReason(String reason) {
    if (reason == null) return INVALID;
    switch (reason) {
      case "OTP_REUSED":
        return REUSED;
      case "USER_LOCKED":
        return LOCKED;
      case "USER_DISABLED":
      case "METHOD_DISABLED":
        return DISABLED;
      case "RESYNC_REQUIRED":
        return RESYNC;
      case "NO_TOKEN":
        return NO_TOKEN;
      case "CHALLENGE_EXPIRED":
      case "CHALLENGE_UNKNOWN":
      case "CHALLENGE_USER_MISMATCH":
        return CHALLENGE_EXPIRED;
      case "USER_THROTTLED":
        return THROTTLED;
      case "METHOD_CHOICE_INVALID":
        return CHOICE_INVALID;
      case "METHOD_UNAVAILABLE":
      case "METHOD_NOT_ALLOWED":
        return METHOD_UNAVAILABLE;
      case "CHALLENGE_DISABLED":
        return CHALLENGE_DISABLED;
      case "PUSH_DENIED":
        return PUSH_DENIED;
      case "PUSH_EXPIRED":
        return PUSH_EXPIRED;
      case "PUSH_LIMIT":
        return PUSH_LIMIT;
      default:
        return INVALID;
    }
  }
}
