package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.ws.rs.core.MultivaluedHashMap;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The method menu as the validate answer carries it, and the pick as the selection page posts it. */
class MethodChoiceTest {
  private static final String MENU = "{\"result\":\"challenge\",\"reason\":\"CHALLENGE_SENT\",\"transactionId\":\"tx1\","
      + "\"message\":\"Choose a method\",\"methods\":[";

  @Test
  void aChallengeWithAMenuCarriesItsOptions() {
    ValidateResult r = ValidateClient.interpret(200, MENU
        + "{\"index\":1,\"type\":\"totp\",\"label\":\"Authenticator app (Pixel)\"},"
        + "{\"index\":2,\"type\":\"email\",\"label\":\"Mail to a***@example.org\"}]}");
    assertEquals(ValidateResult.Kind.CHALLENGE, r.kind());
    assertEquals("tx1", r.transactionId());
    assertEquals(List.of(new MethodOption(1, "totp", "Authenticator app (Pixel)"),
        new MethodOption(2, "email", "Mail to a***@example.org")), r.methods());
  }

  @Test
  void aMalformedMenuIsNoMenu() {
    for (String bad : List.of("{\"index\":0,\"type\":\"totp\",\"label\":\"x\"}]}",
        "{\"index\":10,\"type\":\"totp\",\"label\":\"x\"}]}", "{\"index\":1.5,\"type\":\"totp\",\"label\":\"x\"}]}",
        "{\"index\":1,\"type\":\"\",\"label\":\"x\"}]}", "{\"index\":1,\"type\":\"totp\"}]}", "\"x\"]}", "]}")) {
      ValidateResult r = ValidateClient.interpret(200, MENU + bad);
      assertEquals(ValidateResult.Kind.CHALLENGE, r.kind(), bad);
      assertTrue(r.methods().isEmpty(), bad);
    }
    assertTrue(ValidateClient.interpret(200, "{\"result\":\"accept\",\"methods\":[{\"index\":1,\"type\":\"totp\","
        + "\"label\":\"x\"}]}").methods().isEmpty(), "only a challenge offers a menu");
  }

  @Test
  void longLabelsAreShortened() {
    String label = "x".repeat(200);
    ValidateResult r = ValidateClient.interpret(200, MENU + "{\"index\":1,\"type\":\"sms\",\"label\":\"" + label + "\"}]}");
    assertEquals(MethodOption.MAX_LABEL_CHARS, r.methods().get(0).label().length());
  }

  @Test
  void onlyOneOrTwoDigitsArePicks() {
    MultivaluedHashMap<String, String> p = new MultivaluedHashMap<>();
    p.putSingle(MethodChoice.PICK, " 2 ");
    assertEquals("2", MethodChoice.picked(p));
    for (String bad : List.of("", "123", "1a", "-1", "１")) {
      p.putSingle(MethodChoice.PICK, bad);
      assertNull(MethodChoice.picked(p), bad);
    }
    assertNull(MethodChoice.picked(new MultivaluedHashMap<>()));
  }

  @Test
  void theSelectionTemplateShipsWithItsButtons() throws Exception {
    try (InputStream in = getClass().getClassLoader()
        .getResourceAsStream("theme-resources/templates/" + MethodChoice.TEMPLATE)) {
      String ftl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(ftl.contains("name=\"tessera-method\""));
      assertTrue(ftl.contains("name=\"otp\""));
    }
  }
}
