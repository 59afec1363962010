package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tessera.keycloak.ValidateResult.Kind;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the real JDK HTTP client against a real (tiny) HTTP server on loopback. */
class ValidateClientTest {
  private HttpServer server;
  private URI uri;
  private final AtomicReference<Exchange> seen = new AtomicReference<>();
  private volatile int status = 200;
  private volatile String answer = "{\"result\":\"accept\",\"reason\":\"OK\"}";
  private volatile long delayMs = 0;

  record Exchange(String method, String path, Map<String, String> headers, String body) {}

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
    uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/validate");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> headers = new java.util.HashMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
    seen.set(new Exchange(ex.getRequestMethod(), ex.getRequestURI().getPath(), headers, body));
    if (delayMs > 0) {
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    byte[] out = answer.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json; charset=utf-8");
    ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(out);
    }
  }

  private ValidateClient client(int timeoutMs) {
    return new ValidateClient(uri, "key-abc", timeoutMs);
  }

  @Test
  void sendsTheContractRequest() {
    ValidateResult r = client(2000).validate("alice", "123456", null, "203.0.113.7");
    assertEquals(Kind.ACCEPT, r.kind());
    Exchange ex = seen.get();
    assertEquals("POST", ex.method());
    assertEquals("/v1/validate", ex.path());
    assertEquals("Bearer key-abc", ex.headers().get("authorization"));
    assertTrue(ex.headers().get("content-type").startsWith("application/json"));
    assertEquals("203.0.113.7", ex.headers().get("x-forwarded-for"));
    assertEquals("203.0.113.7", ex.headers().get("x-tessera-client-ip"));
    assertFalse(ex.headers().containsKey("upgrade"), "no h2c upgrade over plain http");
    assertEquals(Map.of("user", "alice", "pass", "123456"), Json.parseObject(ex.body()));
  }

  @Test
  void sendsTheTransactionAndEscapesNames() {
    client(2000).validate("we\"ird\\ü", "42", "tx-9", null);
    Exchange ex = seen.get();
    assertEquals(Map.of("user", "we\"ird\\ü", "pass", "42", "transactionId", "tx-9"), Json.parseObject(ex.body()));
    assertNull(ex.headers().get("x-forwarded-for"), "no address, no header");
  }

  @Test
  void dropsAnUnsafeClientAddress() {
    client(2000).validate("bob", "1", null, "1.2.3.4\r\nX-Evil: 1");
    assertNull(seen.get().headers().get("x-tessera-client-ip"));
  }

  @Test
  void readsChallengeAndReject() {
    answer = "{\"result\":\"challenge\",\"reason\":\"CHALLENGE_SENT\",\"message\":\"Code sent\",\"transactionId\":\"tx-1\"}";
    ValidateResult c = client(2000).validate("alice", "1234", null, null);
    assertEquals(Kind.CHALLENGE, c.kind());
    assertEquals("tx-1", c.transactionId());
    assertEquals("Code sent", c.message());
    answer = "{\"result\":\"reject\",\"reason\":\"OTP_REUSED\"}";
    ValidateResult r = client(2000).validate("alice", "1234", null, null);
    assertEquals(Kind.REJECT, r.kind());
    assertEquals("OTP_REUSED", r.reason());
  }

  @Test
  void refusedKeyIsBadKey() {
    for (int s : new int[] {401, 403}) {
      status = s;
      answer = "{\"error\":\"UNAUTHORIZED\"}";
      ValidateResult r = client(2000).validate("alice", "1", null, null);
      assertEquals(Kind.BAD_KEY, r.kind());
      assertFalse(r.toString().contains("key-abc"), "the key never appears in a result");
    }
  }

  @Test
  void serverErrorIsUnavailable() {
    status = 503;
    answer = "{\"error\":\"STORE_UNAVAILABLE\"}";
    assertEquals(Kind.UNAVAILABLE, client(2000).validate("alice", "1", null, null).kind());
  }

  @Test
  void otherAnswersAreErrors() {
    status = 400;
    answer = "{\"error\":\"BAD_REQUEST\"}";
    assertEquals(Kind.ERROR, client(2000).validate("alice", "1", null, null).kind());
    status = 200;
    answer = "<html>proxy login</html>";
    assertEquals(Kind.ERROR, client(2000).validate("alice", "1", null, null).kind());
    answer = "{\"result\":\"maybe\"}";
    assertEquals(Kind.ERROR, client(2000).validate("alice", "1", null, null).kind());
    answer = "{\"result\":\"challenge\"}";
    assertEquals(Kind.ERROR, client(2000).validate("alice", "1", null, null).kind(), "challenge needs a transactionId");
  }

  @Test
  void slowServerTimesOutAsUnavailable() {
    delayMs = 1500;
    long t0 = System.nanoTime();
    ValidateResult r = client(300).validate("alice", "1", null, null);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(Kind.UNAVAILABLE, r.kind());
    assertTrue(ms < 1400, "took " + ms + " ms");
  }

  @Test
  void refusedConnectionIsUnavailable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    ValidateClient c = new ValidateClient(URI.create("http://127.0.0.1:" + port + "/v1/validate"), "k", 1000);
    ValidateResult r = c.validate("alice", "1", null, null);
    assertEquals(Kind.UNAVAILABLE, r.kind());
    assertEquals(0, r.httpStatus());
  }
}
