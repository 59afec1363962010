package dev.tessera.keycloak;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** One entry of the method menu Tessera sends with a challenge: the number that picks it, its method, its name. */
public record MethodOption(int index, String type, String label) {
  /** A menu never has more entries than one digit names; anything beyond is ignored. */
  static final int MAX_OPTIONS = 9;
  static final int MAX_LABEL_CHARS = 80;

  /**
   * Reads the `methods` array of a validate answer. Anything malformed (not a list, an entry
   * without a sane index, type or label) yields no menu at all, so the plain code form shows instead.
   */
  static List<MethodOption> listFrom(Object methods) {
    if (!(methods instanceof List<?> list) || list.isEmpty()) return List.of();
    List<MethodOption> out = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof Map<?, ?> m)) return List.of();
      Object index = m.get("index");
      Object type = m.get("type");
      Object label = m.get("label");
      if (!(index instanceof Number n) || !(type instanceof String t) || !(label instanceof String l)) return List.of();
      int i = n.intValue();
      if (i < 1 || i > MAX_OPTIONS || n.doubleValue() != i || t.isEmpty() || l.isBlank()) return List.of();
      if (out.size() < MAX_OPTIONS) out.add(new MethodOption(i, t, shorten(l)));
    }
    return Collections.unmodifiableList(out);
  }

  private static String shorten(String label) {
    return label.length() <= MAX_LABEL_CHARS ? label : label.substring(0, MAX_LABEL_CHARS - 3) + "...";
  }
}
