package dev.tessera.keycloak;

/** What the login does when Tessera cannot be reached. */
public enum FailMode {
  /** Refuse the login with an error (default: an outage must not open the door). */
  CLOSED,
  /** Let the user in without the second factor; for sites that prefer availability. */
  OPEN;

  public static FailMode parse(String value) {
    if (value != null && value.trim().equalsIgnoreCase("open")) return OPEN;
    return CLOSED;
  }

  public String configValue() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
