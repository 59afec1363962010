package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void parsesTesseraAnswers() {
    Map<String, Object> m = Json.parseObject(
        "{\"result\":\"challenge\",\"reason\":\"CHALLENGE_SENT\",\"message\":\"Enter the code\\nsent \\u00e0 you\","
            + "\"transactionId\":\"tx-1\",\"ttl\":120,\"ratio\":0.5,\"ok\":true,\"none\":null,\"list\":[1,\"a\",{}]}");
    assertEquals("challenge", m.get("result"));
    assertEquals("Enter the code\nsent \u00e0 you", m.get("message"));
    assertEquals(120L, m.get("ttl"));
    assertEquals(0.5, m.get("ratio"));
    assertEquals(Boolean.TRUE, m.get("ok"));
    assertNull(m.get("none"));
    assertEquals(List.of(1L, "a", Map.of()), m.get("list"));
  }

  @Test
  void toleratesWhitespace() {
    assertEquals(Map.of("a", "b"), Json.parseObject(" \n{ \"a\" :\t\"b\" }\r\n"));
  }

  @Test
  void rejectsMalformedInput() {
    for (String bad : new String[] {"", "{", "{\"a\":}", "{\"a\":1,}", "[1,2", "{\"a\":\"b\"} x", "nul", "{\"a\":\"\\x\"}",
        "\"unterminated", "{a:1}", "{\"a\":\"line\nbreak\"}"}) {
      assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]"));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("[".repeat(100) + "]".repeat(100)));
  }

  @Test
  void quoteRoundTrips() {
    String nasty = "we\"ird\\name\n\t\u0001\u2028é";
    assertEquals(nasty, Json.parse(Json.quote(nasty)));
    assertEquals("\"a\\\"b\"", Json.quote("a\"b"));
  }
}
