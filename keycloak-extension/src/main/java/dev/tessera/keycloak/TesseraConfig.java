package dev.tessera.keycloak;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The per-execution settings an administrator enters in the Keycloak admin console. */
public final class TesseraConfig {
  public static final String URL = "tessera.url";
  public static final String API_KEY = "tessera.apiKey";
  public static final String TIMEOUT_MS = "tessera.timeoutMs";
  public static final String INCLUDE_GROUPS = "tessera.includeGroups";
  public static final String EXCLUDE_GROUPS = "tessera.excludeGroups";
  public static final String USERNAME_ATTRIBUTE = "tessera.usernameAttribute";
  public static final String FAIL_MODE = "tessera.failMode";

  public static final int DEFAULT_TIMEOUT_MS = 5000;
  static final int MIN_TIMEOUT_MS = 100;
  static final int MAX_TIMEOUT_MS = 60_000;

  private final URI validateUri;
  private final String apiKey;
  private final int timeoutMs;
  private final GroupPolicy groupPolicy;
  private final String usernameAttribute;
  private final FailMode failMode;

  private TesseraConfig(
      URI validateUri, String apiKey, int timeoutMs, GroupPolicy groupPolicy, String usernameAttribute, FailMode failMode) {
    this.validateUri = validateUri;
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.groupPolicy = groupPolicy;
    this.usernameAttribute = usernameAttribute;
    this.failMode = failMode;
  }

  /**
   * Reads a config map. A missing or unusable URL or key throws, so a half-configured step fails
   * closed instead of silently skipping the second factor.
   */
  public static TesseraConfig from(Map<String, String> cfg) {
    if (cfg == null) throw new IllegalArgumentException("the Tessera step has no configuration");
    String url = trim(cfg.get(URL));
    if (url.isEmpty()) throw new IllegalArgumentException("Tessera URL is not set");
    URI base;
    try {
      base = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Tessera URL is not a valid URI");
    }
    String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || base.getHost() == null) {
      throw new IllegalArgumentException("Tessera URL must be an absolute http(s) URL");
    }
    String key = trim(cfg.get(API_KEY));
    if (key.isEmpty()) throw new IllegalArgumentException("Tessera client key is not set");
    return new TesseraConfig(
        validateUri(url),
        key,
        parseTimeout(cfg.get(TIMEOUT_MS)),
        new GroupPolicy(splitList(cfg.get(INCLUDE_GROUPS)), splitList(cfg.get(EXCLUDE_GROUPS))),
        trim(cfg.get(USERNAME_ATTRIBUTE)),
        FailMode.parse(cfg.get(FAIL_MODE)));
  }

  static URI validateUri(String base) {
    String b = base.trim();
    while (b.endsWith("/")) b = b.substring(0, b.length() - 1);
    return URI.create(b + "/v1/validate");
  }

  static int parseTimeout(String value) {
    String v = trim(value);
    if (v.isEmpty()) return DEFAULT_TIMEOUT_MS;
    try {
      int n = Integer.parseInt(v);
      return Math.max(MIN_TIMEOUT_MS, Math.min(MAX_TIMEOUT_MS, n));
    } catch (NumberFormatException e) {
      return DEFAULT_TIMEOUT_MS;
    }
  }

  /**
   * Splits a group list. Keycloak stores multivalued strings joined by "##"; commas and new lines are
   * accepted too so values typed by hand or set through the API work the same way.
   */
  static List<String> splitList(String value) {
    List<String> out = new ArrayList<>();
    if (value == null) return out;
    for (String part : value.split("##|,|\\n")) {
      String p = part.trim();
      if (!p.isEmpty()) out.add(p);
    }
    return out;
  }

  private static String trim(String s) {
    return s == null ? "" : s.trim();
  }

  public URI validateUri() {
    return validateUri;
  }

  public String apiKey() {
    return apiKey;
  }

  public int timeoutMs() {
    return timeoutMs;
  }

  public GroupPolicy groupPolicy() {
    return groupPolicy;
  }

  /** Empty means the Keycloak username. */
  public String usernameAttribute() {
    return usernameAttribute;
  }

  public FailMode failMode() {
    return failMode;
  }

  @Override
  public String toString() {
    // The key is deliberately absent: this string may end up in a log line.
    return "TesseraConfig{url=" + validateUri + ", timeoutMs=" + timeoutMs + ", failMode=" + failMode.configValue() + "}";
  }
}
