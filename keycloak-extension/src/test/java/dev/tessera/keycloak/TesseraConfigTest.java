package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TesseraConfigTest {
  private static Map<String, String> base() {
    Map<String, String> m = new HashMap<>();
    m.put(TesseraConfig.URL, "http://127.0.0.1:8080/");
    m.put(TesseraConfig.API_KEY, "k-123");
    return m;
  }

  @Test
  void defaults() {
    TesseraConfig c = TesseraConfig.from(base());
    assertEquals("http://127.0.0.1:8080/v1/validate", c.validateUri().toString());
    assertEquals(TesseraConfig.DEFAULT_TIMEOUT_MS, c.timeoutMs());
    assertEquals(FailMode.CLOSED, c.failMode());
    assertEquals("", c.usernameAttribute());
    assertEquals(List.of(), c.groupPolicy().include());
  }

  @Test
  void readsEverySetting() {
    Map<String, String> m = base();
    m.put(TesseraConfig.URL, "https://otp.example.org/base//");
    m.put(TesseraConfig.TIMEOUT_MS, "2500");
    m.put(TesseraConfig.INCLUDE_GROUPS, "staff##/admins/ops");
    m.put(TesseraConfig.EXCLUDE_GROUPS, "robots, /legacy\nsvc");
    m.put(TesseraConfig.USERNAME_ATTRIBUTE, " email ");
    m.put(TesseraConfig.FAIL_MODE, "OPEN");
    TesseraConfig c = TesseraConfig.from(m);
    assertEquals("https://otp.example.org/base/v1/validate", c.validateUri().toString());
    assertEquals(2500, c.timeoutMs());
    assertEquals(List.of("staff", "/admins/ops"), c.groupPolicy().include());
    assertEquals(List.of("robots", "/legacy", "svc"), c.groupPolicy().exclude());
    assertEquals("email", c.usernameAttribute());
    assertEquals(FailMode.OPEN, c.failMode());
  }

  @Test
  void timeoutIsClampedAndGarbageFallsBack() {
    assertEquals(TesseraConfig.MIN_TIMEOUT_MS, TesseraConfig.parseTimeout("1"));
    assertEquals(TesseraConfig.MAX_TIMEOUT_MS, TesseraConfig.parseTimeout("999999"));
    assertEquals(TesseraConfig.DEFAULT_TIMEOUT_MS, TesseraConfig.parseTimeout("soon"));
  }

  @Test
  void unknownFailModeMeansClosed() {
    assertEquals(FailMode.CLOSED, FailMode.parse("maybe"));
    assertEquals(FailMode.CLOSED, FailMode.parse(null));
    assertEquals(FailMode.OPEN, FailMode.parse(" open "));
  }

  @Test
  void incompleteConfigIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> TesseraConfig.from(null));
    Map<String, String> noKey = base();
    noKey.remove(TesseraConfig.API_KEY);
    assertThrows(IllegalArgumentException.class, () -> TesseraConfig.from(noKey));
    for (String badUrl : new String[] {"", "ftp://x", "not a url", "/relative", "http://"}) {
      Map<String, String> m = base();
      m.put(TesseraConfig.URL, badUrl);
      assertThrows(IllegalArgumentException.class, () -> TesseraConfig.from(m), badUrl);
    }
  }

  @Test
  void toStringHidesTheKey() {
    assertFalse(TesseraConfig.from(base()).toString().contains("k-123"));
  }
}
