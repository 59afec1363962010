package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GroupPolicyTest {
  private static GroupPolicy policy(List<String> include, List<String> exclude) {
    return new GroupPolicy(include, exclude);
  }

  @Test
  void emptyListsMeanEveryone() {
    assertTrue(policy(List.of(), List.of()).requiresOtp(List.of()));
    assertTrue(policy(List.of(), List.of()).requiresOtp(List.of("/anything")));
  }

  @Test
  void includeRestrictsToMembers() {
    GroupPolicy p = policy(List.of("staff"), List.of());
    assertTrue(p.requiresOtp(List.of("/staff")));
    assertTrue(p.requiresOtp(List.of("/org/staff")), "a name matches at any level");
    assertFalse(p.requiresOtp(List.of("/guests")));
    assertFalse(p.requiresOtp(List.of()));
  }

  @Test
  void membershipIsInherited() {
    GroupPolicy p = policy(List.of("/staff"), List.of());
    assertTrue(p.requiresOtp(List.of("/staff/ops/night")));
    assertFalse(p.requiresOtp(List.of("/staffing")), "a path prefix is not a parent");
    assertTrue(policy(List.of("/staff/"), List.of()).requiresOtp(List.of("/staff")), "trailing slash tolerated");
  }

  @Test
  void fullPathsMatchExactly() {
    GroupPolicy p = policy(List.of("/org/ops"), List.of());
    assertTrue(p.requiresOtp(List.of("/org/ops")));
    assertFalse(p.requiresOtp(List.of("/ops")));
    assertFalse(p.requiresOtp(List.of("/other/org/ops")));
  }

  @Test
  void excludeWins() {
    GroupPolicy p = policy(List.of("staff"), List.of("/staff/robots"));
    assertTrue(p.requiresOtp(List.of("/staff/humans")));
    assertFalse(p.requiresOtp(List.of("/staff/robots")));
    assertFalse(p.requiresOtp(List.of("/staff/humans", "/staff/robots")));
    assertFalse(policy(List.of(), List.of("svc")).requiresOtp(List.of("/apps/svc")));
    assertTrue(policy(List.of(), List.of("svc")).requiresOtp(List.of("/apps")));
  }
}
