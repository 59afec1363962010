package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.keycloak.LoginDecision.Action;
import dev.tessera.keycloak.ValidateResult.Kind;
import org.junit.jupiter.api.Test;

class LoginDecisionTest {
  private static LoginDecision decide(ValidateResult r, FailMode m) {
    return LoginDecision.decide(r, m);
  }

  @Test
  void answersMapToActions() {
    assertEquals(Action.SUCCESS, decide(ValidateResult.answer(Kind.ACCEPT, "OK", null, null), FailMode.CLOSED).action());
    LoginDecision c = decide(ValidateResult.answer(Kind.CHALLENGE, "CHALLENGE_SENT", "Enter code", "tx"), FailMode.CLOSED);
    assertEquals(Action.CHALLENGE, c.action());
    LoginDecision r = decide(ValidateResult.answer(Kind.REJECT, "OTP_REUSED", null, null), FailMode.OPEN);
    assertEquals(Action.RETRY_FAILED, r.action());
    assertEquals(Messages.REUSED, r.messageKey());
  }

  @Test
  void unreachableFollowsTheFailMode() {
    ValidateResult down = ValidateResult.failure(Kind.UNAVAILABLE, 0, "ConnectException");
    LoginDecision closed = decide(down, FailMode.CLOSED);
    assertEquals(Action.ERROR, closed.action());
    assertEquals(Messages.UNAVAILABLE, closed.messageKey());
    assertFalse(closed.failedOpen());
    LoginDecision open = decide(down, FailMode.OPEN);
    assertEquals(Action.SUCCESS, open.action());
    assertTrue(open.failedOpen());
  }

  @Test
  void misconfigurationNeverFailsOpen() {
    for (Kind k : new Kind[] {Kind.BAD_KEY, Kind.ERROR}) {
      LoginDecision d = decide(ValidateResult.failure(k, 401, "x"), FailMode.OPEN);
      assertEquals(Action.ERROR, d.action(), k.name());
      assertEquals(Messages.CONFIG_ERROR, d.messageKey());
      assertFalse(d.failedOpen());
    }
  }

  @Test
  void reasonsHaveTheirOwnTexts() {
    assertEquals(Messages.INVALID, Messages.forReason(null));
    assertEquals(Messages.INVALID, Messages.forReason("OTP_INVALID"));
    assertEquals(Messages.INVALID, Messages.forReason("USER_UNKNOWN"), "unknown users look like wrong codes");
    assertEquals(Messages.LOCKED, Messages.forReason("USER_LOCKED"));
    assertEquals(Messages.NO_TOKEN, Messages.forReason("NO_TOKEN"));
    assertEquals(Messages.CHALLENGE_EXPIRED, Messages.forReason("CHALLENGE_EXPIRED"));
    assertEquals(Messages.THROTTLED, Messages.forReason("USER_THROTTLED"));
  }
}
