package dev.tessera.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.keycloak.models.GroupModel;
import org.keycloak.models.UserModel;

/** The little Keycloak-facing logic in TesseraAuthenticator, against stand-in models (JDK proxies, no mocking library). */
class KeycloakGlueTest {
  private static GroupModel group(String name, GroupModel parent) {
    return (GroupModel) Proxy.newProxyInstance(GroupModel.class.getClassLoader(), new Class<?>[] {GroupModel.class},
        (p, m, a) -> switch (m.getName()) {
          case "getName" -> name;
          case "getParent" -> parent;
          case "hashCode" -> System.identityHashCode(p);
          case "equals" -> p == a[0];
          default -> null;
        });
  }

  private static UserModel user(String username, String email, Map<String, String> attrs, List<GroupModel> groups) {
    return (UserModel) Proxy.newProxyInstance(UserModel.class.getClassLoader(), new Class<?>[] {UserModel.class},
        (p, m, a) -> switch (m.getName()) {
          case "getUsername" -> username;
          case "getEmail" -> email;
          case "getFirstAttribute" -> attrs.get((String) a[0]);
          case "getGroupsStream" -> a == null || a.length == 0 ? groups.stream() : Stream.empty();
          case "hashCode" -> System.identityHashCode(p);
          case "equals" -> p == a[0];
          default -> null;
        });
  }

  @Test
  void tesseraUsernameFollowsTheConfiguredAttribute() {
    UserModel u = user("alice", "alice@example.org", Map.of("employeeId", "E-42", "blank", " "), List.of());
    assertEquals("alice", TesseraAuthenticator.tesseraUsername(u, ""));
    assertEquals("alice", TesseraAuthenticator.tesseraUsername(u, null));
    assertEquals("alice", TesseraAuthenticator.tesseraUsername(u, "username"));
    assertEquals("alice@example.org", TesseraAuthenticator.tesseraUsername(u, "email"));
    assertEquals("E-42", TesseraAuthenticator.tesseraUsername(u, "employeeId"));
    assertNull(TesseraAuthenticator.tesseraUsername(u, "missing"), "no silent fallback to another name");
    assertNull(TesseraAuthenticator.tesseraUsername(u, "blank"));
  }

  @Test
  void groupPathsAreBuiltFromParents() {
    GroupModel org = group("org", null);
    GroupModel ops = group("ops", org);
    GroupModel night = group("night", ops);
    UserModel u = user("bob", null, Map.of(), List.of(night, group("robots", null)));
    List<String> paths = TesseraAuthenticator.groupPaths(u);
    assertEquals(List.of("/org/ops/night", "/robots"), paths);
    assertEquals(false, new GroupPolicy(List.of(), List.of("/org/ops")).requiresOtp(paths));
  }
}
