package dev.tessera.keycloak;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides who must pass the Tessera step. Exclusion wins over inclusion; an empty include list means
 * everyone. Membership is inherited: a member of /staff/ops also counts as a member of /staff.
 *
 * <p>An entry starting with "/" is a full group path; any other entry is a group name matched at any level.
 */
public final class GroupPolicy {
  private final List<String> include;
  private final List<String> exclude;

  public GroupPolicy(List<String> include, List<String> exclude) {
    this.include = List.copyOf(include);
    this.exclude = List.copyOf(exclude);
  }

  public List<String> include() {
    return include;
  }

  public List<String> exclude() {
    return exclude;
  }

  /** @param userGroupPaths the full paths ("/a/b") of the groups the user is a direct member of */
  public boolean requiresOtp(Collection<String> userGroupPaths) {
    Set<String> paths = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (String path : userGroupPaths) {
      if (path == null || path.isEmpty()) continue;
      String p = path.startsWith("/") ? path : "/" + path;
      // Add the path and every ancestor path, and every segment as a plain name.
      String[] segments = p.substring(1).split("/");
      StringBuilder prefix = new StringBuilder();
      for (String seg : segments) {
        if (seg.isEmpty()) continue;
        prefix.append('/').append(seg);
        paths.add(prefix.toString());
        names.add(seg);
      }
    }
    if (matchesAny(exclude, paths, names)) return false;
    return include.isEmpty() || matchesAny(include, paths, names);
  }

  private static boolean matchesAny(List<String> entries, Set<String> paths, Set<String> names) {
    for (String e : entries) {
      if (e.startsWith("/")) {
        String norm = e.length() > 1 && e.endsWith("/") ? e.substring(0, e.length() - 1) : e;
        if (paths.contains(norm)) return true;
      } else if (names.contains(e)) {
        return true;
      }
    }
    return false;
  }
}
