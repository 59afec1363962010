package dev.tessera.keycloak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Calls {@code POST /v1/validate} with the JDK HTTP client. No Keycloak types, so it is tested on its own. */
public final class ValidateClient {
  /** Bodies larger than this are not Tessera answers; refuse to parse them. */
  static final int MAX_BODY_CHARS = 64 * 1024;

  // One HttpClient per connect timeout: clients own a connection pool and a selector thread.
  private static final Map<Integer, HttpClient> CLIENTS = new ConcurrentHashMap<>();

  private final HttpClient http;
  private final URI validateUri;
  private final String apiKey;
  private final Duration timeout;

  public ValidateClient(URI validateUri, String apiKey, int timeoutMs) {
    this.validateUri = validateUri;
    this.apiKey = apiKey;
    this.timeout = Duration.ofMillis(timeoutMs);
    this.http = CLIENTS.computeIfAbsent(timeoutMs, ms -> HttpClient.newBuilder()
        // HTTP/1.1 on purpose: over plain http the JDK would otherwise send an h2c upgrade request.
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofMillis(ms))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build());
  }

  public static ValidateClient of(TesseraConfig cfg) {
    return new ValidateClient(cfg.validateUri(), cfg.apiKey(), cfg.timeoutMs());
  }

  /**
   * @param pass the code the user typed (may be null to only start a challenge)
   * @param transactionId the open challenge this code answers, or null
   * @param clientIp the browser's address as Keycloak sees it, forwarded for Tessera's audit and throttling
   */
  public ValidateResult validate(String user, String pass, String transactionId, String clientIp) {
    String body = requestBody(user, pass, transactionId);
    HttpRequest.Builder req = HttpRequest.newBuilder(validateUri)
        .timeout(timeout)
        .header("Authorization", "Bearer " + apiKey)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (clientIp != null && !clientIp.isBlank() && isHeaderSafe(clientIp)) {
      req.header("X-Forwarded-For", clientIp);
      req.header("X-Tessera-Client-Ip", clientIp);
    }
    HttpResponse<String> res;
    try {
      res = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ValidateResult.failure(ValidateResult.Kind.UNAVAILABLE, 0, "interrupted");
    } catch (IOException e) {
      // Connection refused, reset, DNS failure or HttpTimeoutException: Tessera is unreachable.
      return ValidateResult.failure(ValidateResult.Kind.UNAVAILABLE, 0, e.getClass().getSimpleName());
    }
    return interpret(res.statusCode(), res.body());
  }

  static String requestBody(String user, String pass, String transactionId) {
    StringBuilder b = new StringBuilder("{\"user\":").append(Json.quote(user));
    if (pass != null) b.append(",\"pass\":").append(Json.quote(pass));
    if (transactionId != null && !transactionId.isEmpty()) b.append(",\"transactionId\":").append(Json.quote(transactionId));
    return b.append('}').toString();
  }

  /** Maps an HTTP answer to a result. Package-private so the mapping is tested without a server. */
  static ValidateResult interpret(int status, String body) {
    if (status == 401 || status == 403) {
      return ValidateResult.failure(ValidateResult.Kind.BAD_KEY, status, "client key refused");
    }
    if (status >= 500) {
      return ValidateResult.failure(ValidateResult.Kind.UNAVAILABLE, status, "server error");
    }
    if (status < 200 || status >= 300) {
      return ValidateResult.failure(ValidateResult.Kind.ERROR, status, "unexpected status");
    }
    if (body == null || body.length() > MAX_BODY_CHARS) {
      return ValidateResult.failure(ValidateResult.Kind.ERROR, status, "missing or oversized body");
    }
    Map<String, Object> obj;
    try {
      obj = Json.parseObject(body);
    } catch (IllegalArgumentException e) {
      return ValidateResult.failure(ValidateResult.Kind.ERROR, status, "unreadable body: " + e.getMessage());
    }
    String result = string(obj.get("result"));
    ValidateResult.Kind kind;
    if ("accept".equals(result)) kind = ValidateResult.Kind.ACCEPT;
    else if ("reject".equals(result)) kind = ValidateResult.Kind.REJECT;
    else if ("challenge".equals(result)) kind = ValidateResult.Kind.CHALLENGE;
    else return ValidateResult.failure(ValidateResult.Kind.ERROR, status, "unknown result");
    String txn = string(obj.get("transactionId"));
    if (kind == ValidateResult.Kind.CHALLENGE && (txn == null || txn.isEmpty())) {
      return ValidateResult.failure(ValidateResult.Kind.ERROR, status, "challenge without transactionId");
    }
    List<MethodOption> methods = MethodOption.listFrom(obj.get("methods"));
    if (kind == ValidateResult.Kind.CHALLENGE && !methods.isEmpty()) {
      return ValidateResult.challenge(string(obj.get("reason")), string(obj.get("message")), txn, methods);
    }
    String method = string(obj.get("method"));
    if (kind == ValidateResult.Kind.CHALLENGE && method != null && !method.isEmpty()) {
      return ValidateResult.boundChallenge(string(obj.get("reason")), string(obj.get("message")), txn, method);
    }
    return ValidateResult.answer(kind, string(obj.get("reason")), string(obj.get("message")), txn);
  }

  private static String string(Object o) {
    return o instanceof String ? (String) o : null;
  }

  private static boolean isHeaderSafe(String v) {
    if (v.length() > 64) return false;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
  }
}
