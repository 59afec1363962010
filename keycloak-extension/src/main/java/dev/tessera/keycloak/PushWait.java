package dev.tessera.keycloak;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.keycloak.forms.login.LoginFormsProvider;

/**
 * The push waiting page: Tessera's challenge is a push, so the page re-submits itself (a small
 * script from the theme resources, or the user's "I approved it" button without script) with an
 * empty code; Tessera answers with the same challenge while the phone has not answered, and with
 * accept once it approved. A code typed instead (the phone's offline TOTP) answers the same
 * transaction. This class only reads and renders; Tessera alone decides.
 */
final class PushWait {
  static final String TEMPLATE = "tessera-push.ftl";
  static final String METHOD = "push";
  /** The waiting form's marker: an empty answer that asks "approved yet?". */
  static final String POLL = "tessera-push-poll";
  /** Tessera's waiting text names the number to pick when number matching is on ("... pick 42."). */
  private static final Pattern NUMBER = Pattern.compile("\\bpick ([0-9]{1,3})\\b");

  private PushWait() {}

  static boolean isPush(ValidateResult r) {
    return r.kind() == ValidateResult.Kind.CHALLENGE && METHOD.equals(r.method());
  }

  /**
   * A poll of the waiting page. Only with an open transaction: without one an empty answer would
   * start a new push, and a page left open must never send pushes by itself.
   */
  static boolean polling(MultivaluedMap<String, String> params, String transactionId) {
    return params.containsKey(POLL) && transactionId != null && !transactionId.isEmpty();
  }

  /** The number the user picks on the phone, or null when number matching is off. */
  static String number(String message) {
    if (message == null) return null;
    Matcher m = NUMBER.matcher(message);
    return m.find() ? m.group(1) : null;
  }

  static Response page(LoginFormsProvider form, ValidateResult r) {
    String n = number(r.message());
    if (n != null) form.setAttribute("tesseraPushNumber", n);
    return form.createForm(TEMPLATE);
  }
}
