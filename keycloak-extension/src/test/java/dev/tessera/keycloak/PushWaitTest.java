package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.ws.rs.core.MultivaluedHashMap;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The push waiting page: when it shows, what a poll is, the number to match, what the jar ships. */
class PushWaitTest {
  private static final String PUSH = "{\"result\":\"challenge\",\"reason\":\"CHALLENGE_SENT\",\"transactionId\":\"tx9\","
      + "\"message\":\"Approve the sign-in on your phone: pick 42.\",\"method\":\"push\"}";

  private static String resource(String name) throws Exception {
    try (InputStream in = PushWaitTest.class.getClassLoader().getResourceAsStream(name)) {
      assertNotNull(in, name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aPushChallengeNamesItsMethod() {
    ValidateResult r = ValidateClient.interpret(200, PUSH);
    assertEquals(ValidateResult.Kind.CHALLENGE, r.kind());
    assertEquals("tx9", r.transactionId());
    assertEquals("push", r.method());
    assertTrue(PushWait.isPush(r));
    assertEquals("42", PushWait.number(r.message()));
  }

  @Test
  void otherAnswersAreNoPushPage() {
    assertFalse(PushWait.isPush(ValidateClient.interpret(200, PUSH.replace("\"push\"", "\"email\""))));
    assertFalse(PushWait.isPush(ValidateClient.interpret(200, PUSH.replace(",\"method\":\"push\"", ""))));
    // Only a challenge waits: an accept or reject that names a method is not a waiting page.
    assertFalse(PushWait.isPush(ValidateClient.interpret(200, PUSH.replace("\"challenge\"", "\"accept\""))));
    assertFalse(PushWait.isPush(ValidateClient.interpret(200, PUSH.replace("\"challenge\"", "\"reject\""))));
    assertFalse(PushWait.isPush(ValidateClient.interpret(200, PUSH.replace("\"method\":\"push\"", "\"method\":7"))));
  }

  @Test
  void noNumberWithoutNumberMatching() {
    assertNull(PushWait.number("Approve the sign-in on your phone."));
    assertNull(PushWait.number(null));
    assertNull(PushWait.number("pick 12345."));
  }

  @Test
  void aPollNeedsAnOpenTransaction() {
    MultivaluedHashMap<String, String> p = new MultivaluedHashMap<>();
    p.putSingle(PushWait.POLL, "1");
    assertTrue(PushWait.polling(p, "tx9"));
    // Without a transaction an empty answer would start a new push: a page left open must not.
    assertFalse(PushWait.polling(p, null));
    assertFalse(PushWait.polling(p, ""));
    assertFalse(PushWait.polling(new MultivaluedHashMap<>(), "tx9"));
  }

  @Test
  void pushRefusalsHaveTheirOwnText() {
    assertEquals(Messages.PUSH_DENIED, Messages.forReason("PUSH_DENIED"));
    assertEquals(Messages.PUSH_EXPIRED, Messages.forReason("PUSH_EXPIRED"));
    assertEquals(Messages.PUSH_LIMIT, Messages.forReason("PUSH_LIMIT"));
    LoginDecision d = LoginDecision.decide(ValidateClient.interpret(200,
        "{\"result\":\"reject\",\"reason\":\"PUSH_DENIED\"}"), FailMode.OPEN);
    assertEquals(LoginDecision.Action.RETRY_FAILED, d.action());
  }

  @Test
  void theTemplatePollsWithAScriptFileAndTakesACode() throws Exception {
    String ftl = resource("theme-resources/templates/" + PushWait.TEMPLATE);
    assertTrue(ftl.contains("name=\"" + PushWait.POLL + "\""));
    assertTrue(ftl.contains("name=\"otp\""));
    assertTrue(ftl.contains("<noscript>"), "without script the user can say they approved");
    assertTrue(ftl.contains("${url.resourcesPath}/js/tessera-push.js"));
    // No inline script or handler: a strict Content-Security-Policy must not stop the page.
    assertFalse(ftl.contains("onsubmit") || ftl.contains("onclick") || ftl.matches("(?s).*<script>.*"));
    String js = resource("theme-resources/resources/js/tessera-push.js");
    assertTrue(js.contains("kc-tessera-push-poll"));
  }
}
